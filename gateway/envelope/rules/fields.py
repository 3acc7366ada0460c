"""Walking the text fields of a header, each with the edXML path a sender will recognise."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, is_dataclass

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
