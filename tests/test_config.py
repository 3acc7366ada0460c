"""The configuration file: typed, validated once, errors that name key, value and expectation."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from gateway.config import Settings, load_settings, parse_period, settings_from_mapping
from gateway.errors import ConfigError
from gateway.home import Home


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lienthong.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""))
    assert settings == Settings()
    assert settings.calendar.timezone == "Asia/Ho_Chi_Minh"
    assert settings.calendar.profiles["standard"].periods() == ((time(7), time(11)), (time(13), time(17)))


def test_full_file_is_read(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            """
[gateway]
name = "camau"
domain = "camau.lienthong.test"

[database]
url = "postgresql+psycopg://u@127.0.0.1:5432/db"

[calendar.profiles.standard]
hours = ["07:30-11:30", "13:30-17:30"]

[calendar.profiles.summer]
hours = ["07:00-11:00", "13:30-17:00"]

[calendar.default]
profile = "standard"
seasons = [{ profile = "summer", start = "05-01", end = "09-30" }]
""",
        )
    )
    assert settings.gateway.domain == "camau.lienthong.test"
    assert settings.database.url.startswith("postgresql+psycopg://")
    assert settings.calendar.default.seasons[0].profile == "summer"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[gateway]\nnmae = "x"\n', "gateway.nmae: unknown key"),
        ('[calendar]\ntimezone = "Mars/Olympus"\n', "calendar.timezone = 'Mars/Olympus': expected an IANA time zone"),
        ('[calendar.profiles.standard]\nhours = ["7-11"]\n', "'7-11': expected HH:MM-HH:MM"),
        ('[calendar.profiles.standard]\nhours = ["13:00-17:00", "07:00-11:00"]\n', "overlaps or precedes"),
        ('[calendar.profiles.standard]\nhours = ["11:00-07:00"]\n', "the end must come after the start"),
        ('[calendar.profiles.standard]\nweekdays = ["mon", "funday"]\n', "'funday' is not one of"),
        ('[calendar.default]\nprofile = "winter"\n', "names profile 'winter', which is not defined"),
        ('[database]\nurl = "mysql://x"\n', "expected a sqlite:/// or postgresql+psycopg:// URL"),
        ('[gateway]\nname = "Bad Name"\n', "gateway.name = 'Bad Name'"),
        ("[gateway\n", "invalid TOML"),
    ],
)
def test_bad_file_names_key_value_and_expectation(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert "Traceback" not in message


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({"gateway": {"name": ""}, "storage": {"blob": "x"}})
    message = str(caught.value)
    assert "gateway.name" in message
    assert "storage.blob: unknown key" in message


def test_missing_file_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="run 'lienthong init'"):
        load_settings(tmp_path / "absent.toml")


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "lienthong.toml"
    path.write_bytes(b'[gateway]\nname = "c\xe0mau"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(path)


def test_period_until_midnight() -> None:
    assert parse_period("18:00-24:00") == (time(18), time.max)
    with pytest.raises(ValueError, match="24 is only allowed as 24:00"):
        parse_period("18:00-24:30")


def test_home_resolves_paths_inside_itself(tmp_path: Path) -> None:
    write(tmp_path, '[storage]\nblobs = "/srv/blobs"\n')
    home = Home(tmp_path)
    assert home.exists()
    assert home.mailboxes_dir == tmp_path / "mail"
    assert home.blobs_dir == Path("/srv/blobs")
    assert home.database_url == f"sqlite:///{(tmp_path / 'registry.sqlite3').resolve()}"
