"""Every part but the metadata is listed in the manifest, with the same Content-ID, media type, size and SHA-256."""

from __future__ import annotations

from gateway.envelope.errors import Problem
from gateway.envelope.rules.base import Context

METADATA_INDEX = 2


class ManifestRule:
    codes = ("MANIFEST_PART_MISSING", "MANIFEST_PART_EXTRA", "MANIFEST_DIGEST_MISMATCH")

    def check(self, ctx: Context) -> list[Problem]:
        meta = ctx.metadata
        if meta is None:
            return []
        listed = {entry.content_id: entry for entry in meta.manifest}
        problems: list[Problem] = []
        for part in ctx.envelope.parts:
            if part.index == METADATA_INDEX:
                continue
            where = f"part {part.index} <{part.content_id}>"
            entry = listed.pop(part.content_id, None) if part.content_id else None
            if entry is None:
                problems.append(Problem("MANIFEST_PART_EXTRA", where, "not listed in the manifest"))
                continue
            if entry.media_type != part.media_type:
                detail = f"media type {part.media_type}, manifest says {entry.media_type}"
                problems.append(Problem("MANIFEST_DIGEST_MISMATCH", where, detail))
            if entry.size != part.size or entry.sha256 != part.sha256:
                detail = (
                    f"{part.size} bytes sha256 {part.sha256[:16]}…, manifest says {entry.size} {entry.sha256[:16]}…"
                )
                problems.append(Problem("MANIFEST_DIGEST_MISMATCH", where, detail))
        problems += [Problem("MANIFEST_PART_MISSING", f"cid:{cid}", e.file_name) for cid, e in listed.items()]
        return problems
