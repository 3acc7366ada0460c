"""Worker processes beside `lienthong serve`: restarted when they die, stopped on SIGTERM, gone with a killed parent."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.home import Home
from tests.fixtures.smtp import free_port
from tests.fixtures.workers import cli, reap, spawn_serve
from tests.gateways import wait_for
from tests.test_serve import configure


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def workers_of(pid: int) -> set[int]:
    """The spawned worker processes (not multiprocessing's resource tracker)."""
    return {c for c in children(pid) if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


@pytest.fixture
def serving(demo_home: Home) -> Iterator[subprocess.Popen[str]]:
    configure(demo_home, free_port(), 0)
    cli(demo_home, "ca", "init")
    cli(demo_home, "cert", "issue", "tls", "--host", "localhost")
    cli(demo_home, "dkim", "keygen")
    with demo_home.config_path.open("a", encoding="utf-8") as config:
        config.write("\n[queue]\nworker_processes = 2\n")
    process = spawn_serve(demo_home, subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        assert "listening" in process.stdout.readline()
        assert wait_for(lambda: len(workers_of(process.pid)) == 2, 30.0)
        yield process
    finally:
        reap(process)


def test_a_worker_process_that_dies_is_replaced(serving: subprocess.Popen[str]) -> None:
    first = workers_of(serving.pid)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    assert wait_for(lambda: len(workers_of(serving.pid)) == 2 and victim not in workers_of(serving.pid), 30.0)
    assert workers_of(serving.pid) - first  # a new one


def test_sigterm_stops_the_workers_and_exits_cleanly(serving: subprocess.Popen[str]) -> None:
    workers = workers_of(serving.pid)
    serving.send_signal(signal.SIGTERM)
    assert serving.wait(60) == 0
    assert not any(alive(pid) for pid in workers)


def test_workers_do_not_outlive_a_killed_gateway(serving: subprocess.Popen[str]) -> None:
    workers = workers_of(serving.pid)
    serving.kill()  # SIGKILL: no chance to tell anyone
    serving.wait(30)
    assert wait_for(lambda: not any(alive(pid) for pid in workers), 10)
