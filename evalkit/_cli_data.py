"""``evalkit data compare`` and ``evalkit data diversity``: the data audit outside any suite.

Thin: parse the flags, read the text columns, call one function of :mod:`evalkit.data`, print
its summary and optionally write its JSON. Heavy imports happen inside the commands so that
``evalkit --help`` stays instant.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _write(output: str | None, data: dict[str, Any], what: str) -> None:
    if output:
        from evalkit.records._store import write_json_atomic

        write_json_atomic(Path(output), data)
        print(f"{what}: {output}")


def _compare(args: argparse.Namespace) -> int:
    from evalkit.data import compare
    from evalkit.data._read import read_texts

    eval_texts = read_texts(Path(args.eval), args.field, sample=args.sample, seed=args.seed)
    prod_texts = read_texts(
        Path(args.production), args.prod_field or args.field, sample=args.sample, seed=args.seed,
        tags=True,
    )  # fmt: skip
    print(eval_texts.note())
    print(prod_texts.note())
    result = compare(
        eval_texts.texts, prod_texts.texts, seed=args.seed, confidence=args.confidence,
        prod_tags=prod_texts.tags,
    )  # fmt: skip
    for line in result.summary_lines():
        print(line)
    data = {"eval": eval_texts.note(), "production": prod_texts.note(), **result.to_dict()}
    _write(args.output, data, "comparison")
    return 0


def _diversity(args: argparse.Namespace) -> int:
    from evalkit.data import compare_diversity, diversity
    from evalkit.data._read import read_texts

    texts = read_texts(Path(args.file), args.field, sample=args.sample, seed=args.seed)
    print(texts.note())
    data: dict[str, Any]
    if args.before:
        old = read_texts(Path(args.before), args.field, sample=args.sample, seed=args.seed)
        print(old.note())
        change = compare_diversity(
            old.texts, texts.texts, seed=args.seed, confidence=args.confidence
        )
        print(f"change from {args.before} (new - old), on subsets of {change.subset_size}:")
        for note in change.notes:
            print(f"  note: {note}")
        for name, value in change.change.items():
            print(f"  {name}: {value}")
        print(
            f"  new texts outside the old 10th-90th length percentiles: {change.length_tail_share}"
        )
        for lost in change.lost[:3]:
            print(f"  lost: {lost.similarity:.2f}  {lost.text[:100]!r}")
        data = change.to_dict()
    else:
        result = diversity(texts.texts, seed=args.seed, confidence=args.confidence)
        for line in result.summary_lines():
            print(line)
        data = result.to_dict()
    _write(args.output, data, "diversity")
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--field",
        help="the column holding the texts (default: question, "
        "input, text, message, prompt or query, the first present)",
    )
    parser.add_argument(
        "--sample", type=int, metavar="N", help="use a seeded sample of N rows of each file"
    )
    parser.add_argument("--seed", type=int, default=0, help="sampling and bootstrap seed")
    parser.add_argument("--confidence", type=float, default=0.95, help="interval level")
    parser.add_argument("-o", "--output", help="also write the result as JSON here")  # fmt: skip


def add_data_parser(sub: Any) -> None:
    """Register ``evalkit data compare|diversity`` on the ``evalkit`` subparsers ``sub``."""
    data = sub.add_parser("data", help="audit eval data: like production? collapsed?")
    commands = data.add_subparsers(dest="data_command", required=True)
    compare = commands.add_parser(
        "compare", help="compare eval inputs with production inputs (JSONL/CSV/Parquet)"
    )
    compare.add_argument("eval", help="the eval set's inputs")
    compare.add_argument("production", help="a sample of real user inputs (no labels needed)")
    compare.add_argument("--prod-field", help="the production file's text column, if different")
    _common(compare)
    compare.set_defaults(func=_compare)
    diversity = commands.add_parser("diversity", help="diversity of a dataset's texts")
    diversity.add_argument("file", help="a JSONL/CSV/Parquet file")
    diversity.add_argument("--before", help="an earlier version: show what the new one lost")
    _common(diversity)
    diversity.set_defaults(func=_diversity)
