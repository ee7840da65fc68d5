"""``python -m benchmarks [NAME ...]``: run every ``benchmarks/bench_*.py`` (or those named) and
print one line per result. Always exits 0: benchmarks report, they never fail a build."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    print(f"{'benchmark':<44} {'figure':>22}  {'ratio':<40} {'target':<25} result")
    for name in names:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            for result in module.run():
                print(result.line(), flush=True)
        except Exception:
            print(f"{name:<44} ERROR (reported, not fatal):")
            traceback.print_exc(file=sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
