"""Every case of the hostile corpus yields its documented reason code, and bombs are refused quickly."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from gateway.envelope.errors import EnvelopeError
from gateway.envelope.validate import check, is_refusal, refusal_trace
from tests.fixtures.envelope import NOW
from tests.hostile.cases import CASES


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case_yields_its_reason_code(case, directory):
    raw = case.make()
    if case.code is None:
        check(raw, now=NOW, directory=directory)
        return
    with pytest.raises(EnvelopeError) as info:
        check(raw, now=NOW, directory=directory)
    codes = [p.code for p in info.value.problems]
    assert info.value.primary.code == case.code, codes


@pytest.mark.parametrize("name", ["deep_nesting", "thousands_of_parts", "huge_header", "too_big", "entity_bomb"])
def test_bombs_are_refused_with_bounded_memory(name, directory):
    raw = next(c for c in CASES if c.name == name).make()
    tracemalloc.start()
    started = time.process_time()
    with pytest.raises(EnvelopeError):
        check(raw, now=NOW, directory=directory)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2 * len(raw) + (4 << 20), f"peak {peak} for a {len(raw)}-byte message"
    assert time.process_time() - started < 10  # generous: a bomb that recursed or expanded would take far longer


@pytest.mark.parametrize(
    "name", ["classified_field", "classified_subject", "denunciation_subject", "classified_first_page"]
)
def test_refusals_are_recognisable_and_leave_only_a_trace(name, directory):
    raw = next(c for c in CASES if c.name == name).make()
    with pytest.raises(EnvelopeError) as info:
        check(raw, now=NOW, directory=directory)
    assert is_refusal(info.value)
    assert len(info.value.problems) == 1, "policy runs first and alone"
    trace = refusal_trace(raw, info.value, now=NOW)
    assert set(trace) == {"from", "to", "message_id", "at", "rule", "field", "sha256", "size"}
    assert trace["from"] == "vanthu@camau.gov.vn"
    assert trace["rule"] in ("CLASSIFIED", "DENUNCIATION")
    flat = repr(trace)
    assert "Về việc" not in flat
    assert "tố cáo" not in flat.lower()
    assert "QĐ-UBND" not in flat
