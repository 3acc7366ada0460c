"""The home directory: one folder holding the configuration, the database, keys, mailboxes and blobs.

Resolving paths here, and only here, keeps every other module free of file-system conventions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from gateway.config import CONFIG_FILE, Settings, load_settings

DEFAULT_HOME = Path("var/lienthong")
CREDENTIALS_FILE = "credentials.txt"


@dataclass(frozen=True)
class Home:
    root: Path
    _settings: Settings | None = field(default=None, compare=False)

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    def exists(self) -> bool:
        return self.config_path.is_file()

    @cached_property
    def settings(self) -> Settings:
        return self._settings if self._settings is not None else load_settings(self.config_path)

    def path(self, relative: str) -> Path:
        """A path from the configuration: absolute as given, relative ones inside the home."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.root / candidate

    @property
    def database_url(self) -> str:
        return self.settings.database.url or f"sqlite:///{(self.root / 'registry.sqlite3').resolve()}"

    @property
    def mailboxes_dir(self) -> Path:
        return self.path(self.settings.storage.mailboxes)

    @property
    def blobs_dir(self) -> Path:
        return self.path(self.settings.storage.blobs)

    @property
    def keys_dir(self) -> Path:
        return self.path(self.settings.storage.keys)

    @property
    def credentials_path(self) -> Path:
        return self.root / CREDENTIALS_FILE

    @property
    def calendar_overrides_path(self) -> Path:
        return self.path(self.settings.calendar.overrides_file)
