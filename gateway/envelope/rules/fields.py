"""Walking the text fields of a header, each with the edXML path a sender will recognise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass, replace
from typing import Any, TypeVar

T = TypeVar("T")

_NAMES = {
    "from_": "From",
    "number": "CodeNumber",
    "notation": "CodeNotation",
    "date": "PromulgationDate",
    "appendixes": "Appendixes/Appendix",
    "to_places": "ToPlaces/Place",
    "classification": "lt:Classification",
    "trace_headers": "TraceHeader",
    "replacements": "ReplacementInfoList/ReplacementInfo",
    "receivers": "ReceiverList/Receiver",
    "organ_ids": "OrganIdList/OrganId",
}


def edxml_name(attr: str) -> str:
    return _NAMES.get(attr) or "".join(word.capitalize() for word in attr.split("_"))


def text_fields(value: object, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) for every string inside a dataclass tree, e.g. ("To[1]/OrganName", "Sở Tài chính")."""
    if not is_dataclass(value) or isinstance(value, type):
        return
    for f in fields(value):
        item = getattr(value, f.name)
        name = f"{path}/{edxml_name(f.name)}" if path else edxml_name(f.name)
        if isinstance(item, str):
            yield name, item
        elif isinstance(item, tuple):
            for i, element in enumerate(item):
                if isinstance(element, str):
                    yield f"{name}[{i}]", element
                else:
                    yield from text_fields(element, f"{name}[{i}]")
        else:
            yield from text_fields(item, name)


def map_text(value: T, change: Callable[[str, str], str], path: str = "") -> T:
    """``value`` with every string ``s`` at ``path`` replaced by ``change(path, s)``; unchanged parts are kept as is.

    Paths are those of ``text_fields``, so a conversion can be reported under the name a sender will recognise.
    """
    if not is_dataclass(value) or isinstance(value, type):
        return value
    updates: dict[str, Any] = {}
    for f in fields(value):
        item = getattr(value, f.name)
        name = f"{path}/{edxml_name(f.name)}" if path else edxml_name(f.name)
        if isinstance(item, str):
            new: Any = change(name, item)
        elif isinstance(item, tuple):
            new = tuple(_map_item(element, change, f"{name}[{i}]") for i, element in enumerate(item))
        else:
            new = map_text(item, change, name)
        if new != item:
            updates[f.name] = new
    return replace(value, **updates) if updates else value


def _map_item(element: object, change: Callable[[str, str], str], path: str) -> object:
    return change(path, element) if isinstance(element, str) else map_text(element, change, path)
