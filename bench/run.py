"""Run every benchmark (bench/bench_*.py) and print one table; exit 1 if a target is missed."""

import compileall
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(only: list[str]) -> int:
    # An installed program runs from its bytecode cache; a stale one (an edited checkout, or
    # PYTHONDONTWRITEBYTECODE set) would make every cold start measured compile the package first.
    compileall.compile_dir(HERE.parent / "ticker", quiet=1)
    rows = []
    for module in sorted(HERE.glob("bench_*.py")):
        if only and module.stem not in only:
            continue
        print(f"running {module.stem} ...", file=sys.stderr, flush=True)
        rows += importlib.import_module(module.stem).run()
    print(f"| {'benchmark':<46} | {'figure':>12} | {'baseline':<34} | {'value':>12} | {'ratio':>7} | target | spread |")
    print(f"|{'-' * 48}|{'-' * 14}|{'-' * 36}|{'-' * 14}|{'-' * 9}|--------|--------|")
    for r in rows:
        mark = "ok" if r.ok else "MISSED"
        print(f"| {r.name:<46} | {r.figure:>8.4g} {r.unit:<3} | {r.baseline_name:<34} | "
              f"{r.baseline:>8.4g} {r.unit:<3} | {r.ratio:>7.3f} | {r.target} {mark} | {r.spread} |")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
