"""`make bench`: every benchmark beside its reference, measured in the same run.

Writes bench/results.md with the machine's description. Each module's `main()` prints one
markdown table row and returns its numbers.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.common import machine

BENCHES = (
    "bench.sync_throughput",
    "bench.roi_aggregation",
    "bench.budgets_export",
    "bench.approval_locks",
    "bench.csv_import_memory",
)


def main(names: list[str]) -> int:
    selected = [b for b in BENCHES if not names or b.rsplit(".", 1)[1] in names]
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {machine()}",
        "",
    ]
    failed = 0
    for name in selected:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            lines.append(f"- {name}: not available ({exc})")
            continue
        print(f"== {name}", flush=True)
        try:
            result = module.main()
        except Exception:  # report and go on with the other benchmarks
            failed += 1
            traceback.print_exc()
            lines.append(f"- {name}: FAILED (see console)")
            continue
        lines.append(f"## {name.rsplit('.', 1)[1]}")
        lines.append("")
        lines.extend(f"- {key}: {value}" for key, value in result.items())
        lines.append("")
    out = Path(__file__).with_name("results.md")
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
