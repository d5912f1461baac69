"""Soak: 5,000 calls through `pytest suites/` against a provider that fails a fifth of them.

Faults on every model: 10 % 429 (Retry-After "0.05"), 5 % 500, 2 % hangs past the 0.5 s
timeout, 5 % malformed bodies. Prints the wall time, the requests the provider received, and
how every row and item ended; exits non-zero if any call or item is unaccounted for.

    python bench/soak.py            # 834 items: 1,668 answers + 3,336 judge calls = 5,004 calls
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_soak import make_faulty
from test_suite_runs import make_project, run_dir, run_pytest

from evalkit.testing import FakeProvider

ITEMS = 834


def main() -> int:
    with FakeProvider(seed=11) as fake, tempfile.TemporaryDirectory() as tmp:
        make_faulty(fake, latency_s=(0.0, 0.02))
        root = make_project(Path(tmp), fake, candidate_q=0.7, baseline_q=0.5, n_items=ITEMS)
        start = time.perf_counter()
        proc = run_pytest(root, "--evalkit-timeout-s=0.5", "--evalkit-max-retries=3")
        wall = time.perf_counter() - start
        folder = run_dir(root)
        table = pd.read_json(folder / "judgments.jsonl", lines=True)
        answers = pd.read_json(folder / "answers.jsonl", lines=True)
        panel = json.loads((folder / "run.json").read_text())["suites"][0]["panel"]
        outcome = table["error"].fillna("verdict").str.split(":").str[0].value_counts()
        duplicates = int(table.duplicated(["item_id", "judge", "order", "sample"]).sum())
        print(f"planned calls: {ITEMS * 6:,} ({ITEMS * 2:,} answers, {ITEMS * 4:,} judge calls)")
        print(f"requests received (retries included): {fake.requests():,}")
        print(f"wall time: {wall:.1f} s; pytest exit code {proc.returncode}")
        print(f"answers rows: {len(answers):,}, failed: {int(answers['text'].isna().sum())}")
        print(f"judgment rows: {len(table):,}, duplicates: {duplicates}")
        for name, count in outcome.items():
            print(f"  {name}: {count:,}")
        abstained = sum(bool(p["abstained"]) for p in panel)
        print(f"items: {len(panel):,}: {len(panel) - abstained:,} verdicts, {abstained} abstained")
        ok = (
            len(table) == ITEMS * 4 and len(answers) == ITEMS * 2 and duplicates == 0
            and len(panel) == ITEMS
            and all((p["verdict"] is not None) != bool(p["abstained"]) for p in panel)
        )  # fmt: skip
        print("all accounted for" if ok else "UNACCOUNTED CALLS OR ITEMS")
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
