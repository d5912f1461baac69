"""Benchmark: 100,000 eval inputs against 100,000 production inputs with `evalkit.data.compare`.

Target: under 30 s and 2 GB on 2 cores. The texts are synthetic customer-support messages
generated with a seed (clean, one-request eval inputs; production ones with typos, lower case,
chat words and merged requests). `compare` includes the descriptors, the classifier, the
nearest-neighbour search and the kinds of request (clusters, 10,000 texts a side). Prints the
wall time of `compare` and the peak RSS of the process (which includes generating the texts).

    python bench/data_compare.py [--rows 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np

from evalkit.data import compare

TEMPLATES = (
    "Where is my refund for order {n}?",
    "How do I change the shipping address on order {n}?",
    "Can I return {item} that I bought last week?",
    "Do you ship {item} to {country}?",
    "My {item} arrived damaged. What should I do?",
    "How long does delivery to {country} take?",
    "Why was I charged twice for order {n}?",
    "Can you please cancel my subscription?",
    "Is {item} still available in {colour}?",
    "I would like to update the email address on my account.",
    "What is the warranty on {item}?",
    "Can I pay for {item} in instalments?",
)
ITEMS = ("the headphones", "the jacket", "the blender", "the shoes", "the phone case", "the lamp",
         "the kettle", "the backpack", "the monitor", "the desk chair")  # fmt: skip
COUNTRIES = ("Canada", "Mexico", "Germany", "Japan", "Brazil", "Spain", "India", "Kenya")
COLOURS = ("blue", "red", "black", "green", "white")
CHAT = {"you": "u", "please": "pls", "your": "ur", "thanks": "thx", "are": "r"}


def clean(rng: np.random.Generator, n: int) -> list[str]:
    t = rng.integers(len(TEMPLATES), size=n)
    nums = rng.integers(10_000, 99_999, size=n)
    items = rng.integers(len(ITEMS), size=n)
    countries = rng.integers(len(COUNTRIES), size=n)
    colours = rng.integers(len(COLOURS), size=n)
    return [
        TEMPLATES[t[i]].format(n=nums[i], item=ITEMS[items[i]], country=COUNTRIES[countries[i]],
                               colour=COLOURS[colours[i]])
        for i in range(n)
    ]  # fmt: skip


def typo(word: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(1, len(word) - 1))
    return word[:i] + word[i + 1 :]


def noisy(rng: np.random.Generator, n: int) -> list[str]:
    out = []
    for first, second in zip(clean(rng, n), clean(rng, n), strict=True):
        text = first.rstrip("?.") + " also " + second if rng.random() < 0.3 else first
        words = [CHAT.get(w, w) for w in text.lower().split()]
        words = [typo(w, rng) if len(w) > 3 and rng.random() < 0.15 else w for w in words]
        out.append(" ".join(words).rstrip("?.!") if rng.random() < 0.6 else " ".join(words))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    eval_texts, prod_texts = clean(rng, args.rows), noisy(rng, args.rows)
    start = time.perf_counter()
    result = compare(eval_texts, prod_texts, seed=args.seed)
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    for line in result.summary_lines():
        print(line)
    print(f"rows: {args.rows} eval + {args.rows} production")
    print(f"compare wall time: {wall:.1f} s (target < 30 s)")
    print(f"peak RSS: {peak_mb:.0f} MB (target < 2048 MB)")
    return 0 if wall < 30 and peak_mb < 2048 else 1


if __name__ == "__main__":
    sys.exit(main())
