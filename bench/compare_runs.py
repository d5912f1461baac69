"""Compare two run folders field by field: judgments, gates and judge verdicts.

    python bench/compare_runs.py reports/<before> reports/<after>

Used to check that a refactor changes no judgment, gate outcome or audit verdict on the bundled
models with a replayed cache (issue 10); prints what differs and exits 0 either way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

KEY = ["suite", "item_id", "judge", "order", "sample", "option_order"]
SAME = ["raw_output", "verdict", "score", "parse_ok"]


def judgments(run: Path) -> pd.DataFrame:
    table = pd.read_json(run / "judgments.jsonl", lines=True, dtype=False)
    for column in KEY:
        if column not in table:
            table[column] = None
    return table.set_index(KEY).sort_index()


def main(before: Path, after: Path) -> None:
    a, b = judgments(before), judgments(after)
    only_a, only_b = len(a.index.difference(b.index)), len(b.index.difference(a.index))
    print(
        f"judgment rows: {len(a)} before, {len(b)} after; "
        f"{only_a} only before, {only_b} only after"
    )
    shared = a.index.intersection(b.index)
    for column in SAME:
        x, y = a.loc[shared, column], b.loc[shared, column]
        differ = ~((x == y) | (x.isna() & y.isna()))
        print(f"  {column}: {int(differ.sum())} of {len(shared)} rows differ")
    ra, rb = (json.loads((r / "run.json").read_text()) for r in (before, after))
    for sa in ra["suites"]:
        sb = next(s for s in rb["suites"] if s["name"] == sa["name"])
        gates_a = [
            (g["outcome"], round(g["figure"], 3) if g["figure"] is not None else None, g["name"])
            for g in sa["gates"]
        ]
        gates_b = [
            (g["outcome"], round(g["figure"], 3) if g["figure"] is not None else None, g["name"])
            for g in sb["gates"]
        ]
        print(f"suite {sa['name']}: gates before {gates_a}")
        print(f"{' ' * len(sa['name'])}        gates after  {gates_b}")
        va = (sa.get("audit") or {}).get("verdicts", {})
        vb = (sb.get("audit") or {}).get("verdicts", {})
        print(f"  judge verdicts: {'same' if va == vb else f'{va} -> {vb}'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
