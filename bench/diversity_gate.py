"""Benchmark: the Diversity gate's comparison, 500 accepted texts against 500 new ones.

The gate (``evalkit.gates.Diversity``) calls :func:`evalkit.data.compare_diversity` on the texts
the accepted run kept and this run's (at most 500 of each): every diversity figure on 100 random
subsets of each side. This script times that call on synthetic texts of 50-300 words (a
3,000-word vocabulary), best and worst of ``--rounds``, and prints the compression-ratio loss
so that a change in speed can be checked against an unchanged figure.

    python bench/diversity_gate.py [--texts 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import time

from evalkit.data import compare_diversity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(0)
    words = [f"w{i}" for i in range(3000)]

    def text() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(50, 300)))

    before = [text() for _ in range(args.texts)]
    after = [text() for _ in range(args.texts)]
    times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        change = compare_diversity(before, after)
        times.append(time.perf_counter() - start)
    print(f"{args.texts} vs {args.texts} texts: best {min(times):.2f} s, worst {max(times):.2f} s")
    print(f"compression_ratio loss: {change.loss['compression_ratio']}")


if __name__ == "__main__":
    main()
