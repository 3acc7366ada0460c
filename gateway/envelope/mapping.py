"""Metadata to and from plain mappings (JSON, TOML, ``--json`` output), driven by the model's type hints.

One generic converter instead of a hand-written schema per dataclass keeps the file format and the model from drifting
apart: a key is a field name (``from`` for ``from_``), nested mappings are nested dataclasses, dates are ``yyyy/MM/dd``
(ISO ``yyyy-mm-dd`` and TOML dates are accepted too). Errors name the key path.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import MISSING, fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

from gateway.envelope.edxml import fmt_date, fmt_timestamp
from gateway.envelope.edxml_read import parse_date, parse_timestamp
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.model import VIETNAM
from gateway.errors import InputError


def _key(name: str) -> str:
    return name.rstrip("_")


def from_mapping(cls: type[Any], data: object, path: str = "") -> Any:
    """An instance of the dataclass ``cls`` from ``data``; unknown keys and wrong types raise ``InputError``."""
    if not isinstance(data, Mapping):
        raise InputError(f"{path or 'metadata'}: expected a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    known = {_key(f.name): f for f in fields(cls)}
    unknown = sorted(set(map(str, data)) - set(known))
    if unknown:
        raise InputError(f"{path or 'metadata'}: unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}")
    kwargs = {f.name: _convert(hints[f.name], data[key], f"{path}{key}") for key, f in known.items() if key in data}
    try:
        return cls(**kwargs)
    except TypeError:
        missing = [
            k for k, f in known.items() if k not in data and f.default is MISSING and f.default_factory is MISSING
        ]
        raise InputError(f"{path or 'metadata'}: missing key(s) {', '.join(missing)}") from None


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        return _convert(next(a for a in args if a is not type(None)), value, path)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise InputError(f"{path}: expected a list")
        return tuple(_convert(args[0], item, f"{path}[{i}]") for i, item in enumerate(value))
    if is_dataclass(tp) and isinstance(tp, type):
        return from_mapping(tp, value, f"{path}.")
    if tp is str:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise InputError(f"{path}: expected text")
        return str(value)
    if tp is int:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InputError(f"{path}: expected a whole number")
        return value
    if tp is date:
        return date_value(value, path)
    if tp is datetime:
        return datetime_value(value, path)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    raise InputError(f"{path}: unsupported type {tp}")  # a model change this converter does not know yet


def date_value(value: Any, path: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise InputError(f"{path}: expected a date yyyy/MM/dd")
    try:
        parsed = date.fromisoformat(value) if "-" in value else parse_date(value, path)
    except (ValueError, EnvelopeError):
        parsed = None
    if parsed is None:
        raise InputError(f"{path}: {value!r} is not a date yyyy/MM/dd")
    return parsed


def datetime_value(value: Any, path: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=VIETNAM)
    if not isinstance(value, str):
        raise InputError(f"{path}: expected a timestamp yyyy/MM/dd HH:mm:ss")
    try:
        parsed = datetime.fromisoformat(value) if "-" in value[:5] else parse_timestamp(value, path)
    except (ValueError, EnvelopeError):
        parsed = None
    if parsed is None:
        raise InputError(f"{path}: {value!r} is not a timestamp yyyy/MM/dd HH:mm:ss")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VIETNAM)


def to_mapping(value: Any) -> Any:
    """Plain data for JSON: dataclasses as mappings (empty values left out), dates in edXML form."""
    if is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in fields(value):
            item = to_mapping(getattr(value, f.name))
            if item not in (None, "", [], {}):
                out[_key(f.name)] = item
        return out
    if isinstance(value, tuple | list):
        return [to_mapping(v) for v in value]
    if isinstance(value, datetime):
        return fmt_timestamp(value)
    if isinstance(value, date):
        return fmt_date(value)
    if isinstance(value, Enum):
        return value.value
    return value
