"""Write the hostile corpus as files: ``python -m tests.hostile DIR`` -> DIR/<name>.<CODE or valid>.eml."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.hostile.cases import CASES


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    target.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        (target / f"{case.name}.{case.code or 'valid'}.eml").write_bytes(case.make())
    print(f"{len(CASES)} cases written to {target}")


if __name__ == "__main__":
    main()
