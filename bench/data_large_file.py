"""How much memory reading a large production file takes: the whole column vs a seeded sample.

Writes a JSONL file of about ``--mb`` megabytes of chat-style messages (with other fields beside
the text, as a log export has), then, each in a fresh process, reads its text column with
:func:`evalkit.data._read.read_texts` whole and as a seeded sample of ``--sample`` texts, and
prints the wall time and the peak resident memory of each.

    python bench/data_large_file.py --mb 1000 --sample 100000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = [
    "hi", "hello", "order", "refund", "ship", "canada", "where", "is", "my", "pls", "thx",
    "help", "account", "password", "invoice",
]  # fmt: skip


def write_file(path: Path, megabytes: int) -> int:
    """A JSONL log export of about ``megabytes`` MB; returns its number of rows."""
    rng = random.Random(0)
    target, rows = megabytes * 1_000_000, 0
    with path.open("w", encoding="utf-8") as f:
        while f.tell() < target:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 30)))
            meta = {"user": rng.randint(1, 10**6), "ts": 1_700_000_000 + rows, "lang": "en"}
            f.write(
                json.dumps({"id": rows, "text": text, "meta": meta, "reply": text[::-1]}) + "\n"
            )
            rows += 1
    return rows


def measure(path: Path, sample: int | None) -> None:
    """Read in this process and print seconds and peak RSS (MB) as one JSON line."""
    from evalkit.data._read import read_texts

    start = time.perf_counter()
    texts = read_texts(path, "text", sample=sample, seed=0)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"texts": len(texts.texts), "seconds": round(seconds, 1), "peak_mb": round(peak)}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=100_000)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--take", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(Path(args.measure), args.take or None)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "production.jsonl"
        rows = write_file(path, args.mb)
        size = path.stat().st_size / 1e6
        print(f"file: {size:.0f} MB, {rows:,} rows (2 cores)")
        for label, take in (("whole column", 0), (f"sample of {args.sample:,}", args.sample)):
            out = subprocess.run(
                [sys.executable, __file__, "--measure", str(path), "--take", str(take)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            print(f"{label:>20}: {out.stdout.strip()}")


if __name__ == "__main__":
    main()
