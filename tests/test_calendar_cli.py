"""`lienthong calendar effective|show`, run through the real Click root with a real home directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--home", str(home), "calendar", *args])
    return result.exit_code, result.stdout, result.stderr


def test_effective_without_a_configured_home_uses_the_defaults(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path / "fresh", "effective", "2026-02-13 17:30", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["effective_local"] == "2026-02-23T07:00:00.000+07:00"
    assert data["technical_utc"] == "2026-02-13T10:30:00.000Z"
    assert data["shifted"] is True
    assert data["reason"] == "after closing"
    assert len(data["calendar_version"]) == 16


@pytest.mark.parametrize(
    ("text", "effective"),
    [
        ("2026-03-02T02:30:00Z", "2026-03-02T09:30:00.000+07:00"),
        ("2026-03-02T09:30:00+07:00", "2026-03-02T09:30:00.000+07:00"),
        ("2026-03-02 17:00:00", "2026-03-03T07:00:00.000+07:00"),
        ("2026-08-21 17:30", "2026-08-22T07:00:00.000+07:00"),
    ],
)
def test_effective_accepts_local_and_iso_input(tmp_path: Path, text: str, effective: str) -> None:
    code, out, _ = run(tmp_path, "effective", text, "--json")
    assert code == 0
    assert json.loads(out)["effective_local"] == effective


def test_effective_plain_output(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "effective", "2026-04-25 10:00")
    assert code == 0
    assert "Tue 28 Apr 2026 07:00:00" in out
    assert "day off" not in out
    assert "not a working weekday" in out


@pytest.mark.parametrize("text", ["13/02/2026 17:30", "2026-02-30 10:00", "tomorrow", ""])
def test_bad_instant_is_one_line_error(tmp_path: Path, text: str) -> None:
    code, out, err = run(tmp_path, "effective", text)
    assert code == 2
    assert out == ""
    assert err.startswith(f"lienthong: error: instant {text!r}: expected a date and time such as '2026-02-13 17:30'")
    assert err.count("\n") == 1


def configured_home(tmp_path: Path, overrides: str | None = None) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "lienthong.toml").write_text(
        """
[calendar.profiles.standard]
hours = ["07:30-11:30", "13:30-17:30"]

[calendar.profiles.sixdays]
hours = ["08:00-12:00"]
weekdays = ["mon", "tue", "wed", "thu", "fri", "sat"]

[calendar.agencies."000.00.15.H12"]
profile = "sixdays"
""",
        encoding="utf-8",
    )
    if overrides is not None:
        (home / "calendar-overrides.toml").write_text(overrides, encoding="utf-8")
    return home


def test_effective_uses_the_home_settings_and_agency(tmp_path: Path) -> None:
    home = configured_home(tmp_path)
    _, out, _ = run(home, "effective", "2026-03-02 07:15", "--json")
    assert json.loads(out)["effective_local"] == "2026-03-02T07:30:00.000+07:00"
    _, out, _ = run(home, "effective", "2026-03-06 12:30", "--agency", "000.00.15.H12", "--json")
    data = json.loads(out)
    assert data["effective_local"] == "2026-03-07T08:00:00.000+07:00"
    assert data["schedule"] == "000.00.15.H12"


def test_show_lists_special_days_hours_and_version(tmp_path: Path) -> None:
    home = configured_home(tmp_path, '[[day_off]]\ndate = "2026-12-31"\nname = "Nghỉ thêm"\n')
    code, out, _ = run(home, "show", "2026", "--json")
    assert code == 0
    data = json.loads(out)
    days = {d["date"]: d for d in data["days"]}
    assert days["2026-08-22"]["kind"] == "working day"
    assert days["2026-08-31"]["kind"] == "day off"
    assert days["2026-04-26"]["kind"] == "day off (already a non-working day)"
    assert days["2026-12-31"] == {
        "date": "2026-12-31",
        "weekday": "thu",
        "kind": "day off",
        "name": "Nghỉ thêm",
        "source": "override",
    }
    assert data["schedules"]["default"]["hours"] == "mon,tue,wed,thu,fri 07:30-11:30, 13:30-17:30"
    assert data["schedules"]["000.00.15.H12"]["hours"] == "mon,tue,wed,thu,fri,sat 08:00-12:00"
    assert (
        data["calendar_version"] != json.loads(run(tmp_path / "fresh", "show", "2026", "--json")[1])["calendar_version"]
    )
    code, table, _ = run(home, "show", "2026")
    assert code == 0
    assert "Nghỉ thêm" in table
    assert "hours default: mon,tue,wed,thu,fri 07:30-11:30, 13:30-17:30" in table


def test_invalid_override_file_is_reported_by_the_cli(tmp_path: Path) -> None:
    home = configured_home(tmp_path, '[[working_day]]\ndate = "2026-02-31"\nname = "x"\n')
    code, _, err = run(home, "effective", "2026-03-02 09:00")
    assert code == 2
    assert "calendar-overrides.toml: working_day[1].date = '2026-02-31': expected a date" in err


def test_help_says_defaults_apply_without_init(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "--help")
    assert code == 0
    assert "default calendar is used" in out
