"""Every CLI error is one line on stderr with a non-zero exit, usage mistakes included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["agency", "show"], "Missing argument 'ORGID'. (see 'lienthong agency show --help')"),
        (["nosuch"], "No such command 'nosuch'. (see 'lienthong --help')"),
        (["calendar", "effective", "2026-13-45 25:00"], "2026-13-45 25:00"),
        (["agency", "list"], "run 'lienthong init'"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    # A real process, as a user runs it: no traceback, one line, exit code 2 for bad input.
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "--home", str(tmp_path / "home"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lienthong: error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
