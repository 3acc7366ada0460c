"""The one TOML configuration file, parsed once into typed, validated settings.

Every section is a frozen pydantic model with unknown keys forbidden, so that a typo in the file is an error naming
the key rather than a setting silently ignored. Nothing below the CLI reads the environment: the home directory is
resolved at the edge and everything else comes from here.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.errors import ConfigError
from registry.organ_id import organ_id_problem

CONFIG_FILE = "lienthong.toml"

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PERIOD = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")
_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GatewaySettings(_Section):
    """Identity of this gateway among its federated peers."""

    name: str = Field(default="lienthong", min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    domain: str = Field(
        default="lienthong.localhost",
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$",
    )
    # how long a running gateway keeps registry answers (agency by OrganId or mailbox); 0: ask every time
    registry_cache_seconds: float = Field(default=5.0, ge=0, le=3600)


class DatabaseSettings(_Section):
    """Where the registry, queue and ledger live; empty means SQLite inside the home."""

    url: str = ""
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("expected a sqlite:/// or postgresql+psycopg:// URL")
        return value


class StorageSettings(_Section):
    """Folders for bytes that do not belong in the database; relative paths are inside the home."""

    mailboxes: str = "mail"
    blobs: str = "blobs"
    keys: str = "keys"


class HoursProfile(_Section):
    """One weekly pattern of office hours; periods are half-open [start, end) in local time."""

    hours: tuple[str, ...] = ("07:00-11:00", "13:00-17:00")
    weekdays: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")

    @field_validator("hours")
    @classmethod
    def _periods(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("expected at least one period such as '07:00-11:00'")
        previous_end = time(0, 0)
        for index, period in enumerate(value):
            start, end = parse_period(period)
            if index and start < previous_end:
                raise ValueError(f"period {period!r} overlaps or precedes the one before it")
            previous_end = end
        return value

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for day in value:
            if day not in _WEEKDAYS:
                raise ValueError(f"{day!r} is not one of {', '.join(_WEEKDAYS)}")
        if len(set(value)) != len(value):
            raise ValueError("a weekday is listed twice")
        return value

    def periods(self) -> tuple[tuple[time, time], ...]:
        return tuple(parse_period(p) for p in self.hours)

    def weekday_numbers(self) -> frozenset[int]:
        return frozenset(_WEEKDAYS.index(d) for d in self.weekdays)


class Season(_Section):
    """A date range (MM-DD, inclusive, may wrap over New Year) during which a profile applies."""

    profile: str
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _month_day(cls, value: str) -> str:
        if not _MONTH_DAY.match(value):
            raise ValueError("expected MM-DD, e.g. '05-01'")
        try:
            date(2000, int(value[:2]), int(value[3:]))  # a leap year, so that 02-29 is accepted
        except ValueError:
            raise ValueError("not a day of the year (expected MM-DD, e.g. '05-01')") from None
        return value


class Schedule(_Section):
    """A default profile plus seasonal exceptions; agencies whose hours differ get their own schedule."""

    profile: str = "standard"
    seasons: tuple[Season, ...] = ()


class CalendarSettings(_Section):
    """Office hours for the Article 11 time rule and working-time arithmetic."""

    timezone: str = "Asia/Ho_Chi_Minh"
    country: str = "VN"
    overrides_file: str = "calendar-overrides.toml"
    profiles: dict[str, HoursProfile] = Field(default_factory=lambda: {"standard": HoursProfile()})
    default: Schedule = Schedule()
    agencies: dict[str, Schedule] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("expected an IANA time zone such as 'Asia/Ho_Chi_Minh'") from exc
        return value

    @model_validator(mode="after")
    def _profiles_exist(self) -> Self:
        schedules = [("default", self.default), *((f"agencies.{k}", v) for k, v in self.agencies.items())]
        for where, schedule in schedules:
            for name in (schedule.profile, *(s.profile for s in schedule.seasons)):
                if name not in self.profiles:
                    raise ValueError(f"{where} names profile {name!r}, which is not defined under [calendar.profiles]")
        return self


class TrustSettings(_Section):
    """The certificate authority, trust anchors, revocation lists and DKIM; see docs/trust.md."""

    key_algorithm: str = Field(default="ec-p256", pattern=r"^(ec-p256|rsa-3072)$")
    ca_name: str = Field(default="Lienthong Provincial CA", min_length=1, max_length=64)
    anchors: tuple[str, ...] = ()
    crls: tuple[str, ...] = ()
    crl_url: str = ""
    crl_days: int = Field(default=7, ge=1, le=366)
    smime_days: int = Field(default=730, ge=1, le=3650)
    tls_days: int = Field(default=397, ge=1, le=3650)
    max_clock_skew_seconds: int = Field(default=300, ge=0, le=86400)
    # how long a signer's positive path verdict is reused (certs/verdicts.py); 0 validates every path in full
    verdict_cache_seconds: int = Field(default=300, ge=0, le=86400)
    dkim_selector: str = Field(default="lt1", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    dkim_extra_rsa: bool = False
    dkim_dns: bool = False


class EnvelopeSettings(_Section):
    """How incoming envelopes are judged; see docs/envelope.md."""

    # OrganIds whose legacy-encoded (TCVN3, VNI, VIQR, cp1258) metadata is converted to Unicode instead of refused
    convert_legacy: tuple[str, ...] = ()
    # worker processes that inspect PDFs (memory-capped, killed on timeout, replaced after pdf_worker_tasks PDFs)
    pdf_workers: int = Field(default=2, ge=1, le=64)
    pdf_worker_tasks: int = Field(default=500, ge=1)

    @field_validator("convert_legacy")
    @classmethod
    def _organ_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for organ_id in value:
            if problem := organ_id_problem(organ_id):
                raise ValueError(f"{organ_id!r}: {problem}")
        if len(set(value)) != len(value):
            raise ValueError("an OrganId is listed twice")
        return value


class SmtpSettings(_Section):
    """The SMTP listeners `lienthong serve` opens; see docs/smtp.md."""

    listen: str = "127.0.0.1"
    submission_port: int = Field(default=10587, ge=0, le=65535)  # STARTTLS; 0 disables
    submission_tls_port: int = Field(default=10465, ge=0, le=65535)  # implicit TLS; 0 disables
    relay_port: int = Field(default=10025, ge=0, le=65535)  # peer gateways: STARTTLS + client certificate; 0 disables
    hostname: str = ""  # announced in greetings; empty means [gateway] domain
    tls_host: str = ""  # serve the active TLS certificate issued for this host (`cert issue tls`); empty: hostname
    tls_cert: str = ""  # or explicit PEM files (certificate chain and unencrypted key), relative to the home
    tls_key: str = ""
    max_message_bytes: int = Field(default=30 * 1024 * 1024, ge=1024)
    max_recipients: int = Field(default=100, ge=1, le=10_000)
    max_connections: int = Field(default=200, ge=1, le=100_000)
    timeout_seconds: float = Field(default=300.0, gt=0)
    max_errors: int = Field(default=20, ge=1, le=10_000)  # refusals in one session before it is closed with 421
    # on SIGTERM, how long a session inside a transaction may take to finish it before it is cut off
    shutdown_grace_seconds: float = Field(default=10.0, ge=0, le=600)

    @model_validator(mode="after")
    def _tls_files_together(self) -> Self:
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        return self


class QueueSettings(_Section):
    """Retries of queued work (delivery, relay, receipts): exponential back-off from base to cap."""

    retry_base_seconds: float = Field(default=60.0, gt=0)
    retry_cap_seconds: float = Field(default=3600.0, gt=0)
    max_attempts: int = Field(default=30, ge=1, le=10_000)
    lease_seconds: float = Field(default=300.0, gt=0)  # a crashed worker's item comes back after this long
    # processes running the workers beside the listener process (docs/workers.md); 0: threads in the listener process
    worker_processes: int = Field(default=1, ge=0, le=64)


class NoticeSettings(_Section):
    """Signed notices to the sender's records office (acceptance, non-acceptance, warning, non-delivery, MIC alert)."""

    # OrganId of the agency that runs this gateway; its records-office certificate signs the notices, and its records
    # office gets a copy of each MIC-mismatch alert. Empty: no notices are sent (the ledger still records everything).
    operator: str = ""
    warning_office_hours: float = Field(default=4.0, gt=0)  # no receipt after this much office time: a warning
    non_delivery_office_hours: float = Field(default=16.0, gt=0)  # ... after this much: non-delivery, final

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.non_delivery_office_hours <= self.warning_office_hours:
            raise ValueError("non_delivery_office_hours must be longer than warning_office_hours")
        if self.operator and (problem := organ_id_problem(self.operator)):
            raise ValueError(f"operator {self.operator!r}: {problem}")
        return self


class Settings(_Section):
    """The whole configuration file."""

    gateway: GatewaySettings = GatewaySettings()
    database: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    calendar: CalendarSettings = CalendarSettings()
    trust: TrustSettings = TrustSettings()
    envelope: EnvelopeSettings = EnvelopeSettings()
    smtp: SmtpSettings = SmtpSettings()
    queue: QueueSettings = QueueSettings()
    notices: NoticeSettings = NoticeSettings()


def parse_period(text: str) -> tuple[time, time]:
    """Parse 'HH:MM-HH:MM' into (start, end); '24:00' as an end means midnight at the end of the day."""
    match = _PERIOD.match(text)
    if not match:
        raise ValueError(f"{text!r}: expected HH:MM-HH:MM, e.g. '07:00-11:00'")
    sh, sm, eh, em = (int(g) for g in match.groups())
    start = time(sh, sm)
    end = time.max if (eh, em) == (24, 0) else time(eh, em) if eh < 24 else None
    if end is None:
        raise ValueError(f"{text!r}: 24 is only allowed as 24:00")
    if end <= start:
        raise ValueError(f"{text!r}: the end must come after the start")
    return start, end


def _describe(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    key = ".".join(loc) if loc else "(file)"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        return f"{key}: unknown key (see docs/configuration.md for the keys each section accepts)"
    if error.get("type") == "missing":
        return f"{key}: required key is missing"
    return f"{key} = {error.get('input')!r}: {message}"


def settings_from_mapping(data: dict[str, Any], source: str = CONFIG_FILE) -> Settings:
    """Validate already-parsed TOML; the error lists every bad key with its value and what was expected."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(dict(e)) for e in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None


def load_settings(path: Path) -> Settings:
    """Read and validate the configuration file at ``path``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no configuration file; run 'lienthong init' to create one") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return settings_from_mapping(data, str(path))
