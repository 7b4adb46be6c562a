"""`python -m benchmarks [figure ...]`: run figures, print the table, write results/latest.json."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import time
import traceback
from datetime import datetime, timezone

from benchmarks import RESULTS, Row, fake_api_keys, fmt

#: Figure name -> module, in the order they run.
FIGURES = {
    "wire": "benchmarks.wire",
    "kernel": "benchmarks.kernel",
    "browser": "benchmarks.browser",
    "lab": "benchmarks.lab",
    "end": "benchmarks.end",
    "concurrency": "benchmarks.concurrency",
    "offline": "benchmarks.offline",
    "soak": "benchmarks.soak",
}


def table(rows: list[Row]) -> str:
    head = ["figure", "case", "ours", "baseline", "ratio", "goal", "met", "note"]
    lines = [head]
    for r in rows:
        met = "—" if r.met is None else ("yes" if r.met else "NO")
        lines.append(
            [r.figure, r.case, fmt(r.ours), fmt(r.baseline), fmt(r.ratio), r.goal, met, r.note]
        )
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in line) + " |" for line in lines[1:]]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("figures", nargs="*", help="default: all")
    args = parser.parse_args()
    names = args.figures or list(FIGURES)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        parser.error(f"unknown figure(s) {unknown}; choose from {list(FIGURES)}")
    rows: list[Row] = []
    named: list[dict] = []
    timings: dict[str, float] = {}
    for name in names:
        print(f"== {name} ...", flush=True)
        started = time.monotonic()
        try:
            module = importlib.import_module(FIGURES[name])
            with fake_api_keys():
                got = module.run()
        except Exception as exc:  # one broken figure must not hide the others
            traceback.print_exc()
            got = [
                Row(name, "failed", None, None, None, "", None, note=f"{type(exc).__name__}: {exc}")
            ]
        timings[name] = time.monotonic() - started
        for row in got:
            print(
                f"   {row.case}: ours {fmt(row.ours)}  baseline {fmt(row.baseline)}  "
                f"ratio {fmt(row.ratio)}  ({row.note})",
                flush=True,
            )
        rows.extend(got)
        named.extend(dict(r.to_dict(), name=name) for r in got)
    print()
    print(table(rows))
    RESULTS.mkdir(exist_ok=True)
    payload = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        },
        "seconds": timings,
        "rows": named,
    }
    path = RESULTS / "latest.json"
    if args.figures and path.exists():  # a partial run updates only its figures
        old = json.loads(path.read_text())
        keep = [r for r in old.get("rows", []) if r.get("name") not in names]
        payload["rows"] = keep + named
        payload["seconds"] = {**old.get("seconds", {}), **timings}
    path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
