"""How fast the Art. 11 rule and the arithmetic run: prints calls per second (no assertions)."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from gateway.calendar import Calendar


def rate(label: str, calls: int, work) -> None:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"{label:<48} {calls / elapsed:>12,.0f} calls/s  ({elapsed * 1e6 / calls:.1f} µs/call)")


def main() -> None:
    started = time.perf_counter()
    calendar = Calendar()
    print(f"{'build Calendar()':<48} {(time.perf_counter() - started) * 1e3:>12.1f} ms")
    rng = random.Random(7)
    base = datetime(2020, 1, 1, tzinfo=UTC)
    instants = [base + timedelta(seconds=rng.randrange(11 * 365 * 86400)) for _ in range(50_000)]
    started = time.perf_counter()
    calendar.effective(instants[0])
    print(f"{'first effective() (cold year cache)':<48} {(time.perf_counter() - started) * 1e3:>12.1f} ms")
    rate("effective(), 2020-2030, cold day cache", len(instants), lambda: [calendar.effective(t) for t in instants])
    rate("effective(), same instants, warm caches", len(instants), lambda: [calendar.effective(t) for t in instants])
    few = instants[:5_000]
    rate("same_day_or_next_working_day()", len(few), lambda: [calendar.same_day_or_next_working_day(t) for t in few])
    rate(
        "office_hours_later(t, 8 h)",
        len(few),
        lambda: [calendar.office_hours_later(t, timedelta(hours=8)) for t in few],
    )
    rate(
        "office_time_between(t, t + 30 days)",
        len(few),
        lambda: [calendar.office_time_between(t, t + timedelta(days=30)) for t in few],
    )


if __name__ == "__main__":
    main()
