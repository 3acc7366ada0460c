"""10 000 random mutations of valid envelopes: parse + validate raise nothing but EnvelopeError.

Seeded, so a failure reproduces; the envelope is cheap (a one-page ASCII PDF) so the run stays well under a minute.
Besides raw byte mutations, a share of the cases mutates the decoded metadata XML and re-encodes it, so the edXML
reader and every rule see hostile values too, not only the MIME layer.
"""

from __future__ import annotations

import base64
import random
import traceback

import pytest

from gateway.envelope.build import build_status
from gateway.envelope.errors import EnvelopeError
from gateway.envelope.model import Organization, ResponseFor, StatusHeader
from gateway.envelope.validate import check
from tests.fixtures.envelope import NOW, RECIPIENT_IDS, SENDER_ID, build_valid, make_trace
from tests.hostile.cases import split_parts

MUTATIONS = 10_000
TOKENS = [
    b"\r\n",
    b"\n",
    b"\r",
    b"--",
    b"\r\n\r\n",
    b"=?utf-8?b?",
    b"\x00",
    b"\xff\xfe",
    b";",
    b'"',
    b"<",
    b">",
    b"&",
    b"Content-Type: multipart/mixed; boundary=x\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"=",
    b"<!DOCTYPE a>",
    b"<edXML:Priority>99999999999</edXML:Priority>",
    b"&#0;",
    b"]]>",
    b"9" * 30,
]


def _envelopes() -> list[bytes]:
    status = StatusHeader(
        Organization(RECIPIENT_IDS[0], organ_name="Sở Tài chính", email="vanthu@stc.camau.gov.vn"),
        ResponseFor(SENDER_ID, "15/QĐ-UBND", NOW.date(), "000.00.00.H12,2026/03/02,15/QĐ-UBND"),
        "03",
        NOW,
    )
    return [build_valid(trace=make_trace()), build_status(status, ["vanthu@camau.gov.vn"])]


def _mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 1, 2, 3, 8])):
        op = rng.randrange(6)
        pos = rng.randrange(len(b) + 1)
        if op == 0 and b:  # flip
            b[min(pos, len(b) - 1)] = rng.randrange(256)
        elif op == 1:  # truncate
            del b[pos:]
        elif op == 2:  # insert a token
            b[pos:pos] = rng.choice(TOKENS)
        elif op == 3:  # delete a run
            del b[pos : pos + rng.randrange(1, 200)]
        elif op == 4:  # duplicate a run
            b[pos:pos] = b[pos : pos + rng.randrange(1, 400)]
        elif op == 5 and b:  # random bytes
            b[pos:pos] = rng.randbytes(rng.randrange(1, 20))
    return bytes(b)


def _shuffle_parts(rng: random.Random, raw: bytes) -> bytes:
    start = raw.index(b"Content-Type: multipart/mixed")
    inner = raw[start:]
    parts = split_parts(inner)
    boundary = inner.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    op = rng.randrange(3)
    if op == 0:
        rng.shuffle(parts)
    elif op == 1:
        parts.pop(rng.randrange(len(parts)))
    else:
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(parts))
    body = b"".join(b"--" + boundary + b"\r\n" + p for p in parts) + b"--" + boundary + b"--\r\n"
    return raw[:start] + inner.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" + body


def _mutate_metadata(rng: random.Random, raw: bytes) -> bytes:
    start = raw.index(b"Content-Type: multipart/mixed")
    parts = split_parts(raw[start:])
    head, body = parts[1].split(b"\r\n\r\n", 1)
    xml = _mutate_bytes(rng, base64.b64decode(body))
    encoded = base64.encodebytes(xml).replace(b"\n", b"\r\n")
    return raw.replace(parts[1], head + b"\r\n\r\n" + encoded)


@pytest.mark.slow
def test_mutations_raise_only_envelope_error(directory):
    rng = random.Random(20260302)
    originals = _envelopes()
    outcomes: dict[str, int] = {}
    guarded: list[str] = []  # errors that only the catch-all guard turned into EnvelopeError: real bugs to fix
    for i in range(MUTATIONS):
        raw = rng.choice(originals)
        kind = rng.random()
        mutated = (
            _mutate_bytes(rng, raw)
            if kind < 0.6
            else _shuffle_parts(rng, raw)
            if kind < 0.75
            else _mutate_metadata(rng, raw)
        )
        try:
            check(mutated, now=NOW, directory=directory)
            outcomes["valid"] = outcomes.get("valid", 0) + 1
        except EnvelopeError as exc:
            outcomes[exc.primary.code] = outcomes.get(exc.primary.code, 0) + 1
            if exc.__cause__ is not None:
                guarded.append(f"mutation {i}: " + "".join(traceback.format_exception(exc.__cause__))[-1500:])
        except Exception:  # pragma: no cover - the failure report
            pytest.fail(f"mutation {i} raised {traceback.format_exc()}")
    distinct = sorted({g.strip().rsplit("\n", 1)[-1] for g in guarded})
    assert not guarded, f"{len(guarded)} unexpected exceptions {distinct}, first: {guarded[0]}"
    assert sum(outcomes.values()) == MUTATIONS
    assert len(outcomes) > 8, outcomes  # the mutations reach many different rules, not only the MIME layer
