"""The qualification exam's section of the report: accuracy per judge and kind, and its mistakes.

Read from the probe table (its exam rows, which carry each pair's texts beside the table's
columns, as the runner writes probes.jsonl); the figures come from
:mod:`evalkit.probes._exam_stats` and each is coloured as the audit's ``exam`` check judges it
(:func:`evalkit.audit._reliability.judge_interval` against ``min_exam_accuracy``), so the
colours and the judge's verdict agree. This module only gathers rows for the template
(``exam.html.j2``); a run without an exam gives None.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Final

import pandas as pd

from evalkit.audit._reliability import judge_interval
from evalkit.probes._exam_stats import ALL_KINDS, exam_accuracy, exam_mistakes
from evalkit.records import SuiteRecord
from evalkit.redaction import redact, redact_data
from evalkit.report._load import RunData

#: Status of a figure → the badge class the report's other verdicts use.
_BADGE: Final = {"ok": "trusted", "questionable": "questionable", "untrusted": "untrusted"}


def _common_start(a: str, b: str) -> int:
    """How many leading characters ``a`` and ``b`` share."""
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def _cut_before(text: str, end: int) -> bool:
    """Whether the last ``end`` characters start a word or a punctuation mark of ``text``."""
    at = len(text) - end
    return text[at].isspace() or text[at] in ".,;:!?" or at == 0 or text[at - 1].isspace()


def difference(good: str, bad: str) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """Split two texts into (same start, differing middle, same end), cut at word boundaries.

    >>> difference("It is 12 km.", "It is 14 km.")
    (('It is ', '12', ' km.'), ('It is ', '14', ' km.'))
    >>> difference("The sky is blue.", "The sky is not blue.")
    (('The sky is ', '', 'blue.'), ('The sky is ', 'not ', 'blue.'))
    """
    start = _common_start(good, bad)
    while start > 0 and not good[start - 1].isspace():
        start -= 1
    limit = min(len(good), len(bad)) - start
    end = _common_start(good[::-1], bad[::-1])
    end = min(end, limit)
    while end > 0 and not (_cut_before(good, end) and _cut_before(bad, end)):
        end -= 1

    def cut(text: str) -> tuple[str, str, str]:
        return text[:start], text[start : len(text) - end], text[len(text) - end :]

    return cut(good), cut(bad)


def _figure(row: Mapping[Hashable, Any], limit: float | None) -> dict[str, Any]:
    status = (
        judge_interval(row["accuracy"], row["low"], row["high"], limit, None)
        if limit is not None
        else "ok"
    )
    return {
        "accuracy": row["accuracy"],
        "low": row["low"],
        "high": row["high"],
        "n": int(row["n_pairs"]),
        "n_invalid": int(row["n_invalid"]),
        "status": status,
        "badge": _BADGE.get(status, ""),
    }


def _mistakes(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """The exam's mistakes, each with its pair's texts when the rows carry them.

    The runner writes each pair's ``first`` and ``second`` (and ``question``, when it does)
    beside the probe table's columns; without them a mistake is listed without its texts.
    """
    wrong = exam_mistakes(rows)
    texts: dict[tuple[str, str, str], dict[Hashable, Any]] = {}
    if {"first", "second"} <= set(rows.columns):
        for r in rows.to_dict("records"):
            texts.setdefault((str(r["suite"]), str(r["item_id"]), str(r["probe"])), r)
    out = []
    for row in wrong.to_dict("records"):
        entry: dict[str, Any] = {str(k): v for k, v in row.items()}
        entry.update(question=None, good=None, bad=None)
        pair = texts.get((str(row["suite"]), str(row["item_id"]), str(row["probe"])))
        if pair is not None:
            # Redacted before the split, so that no credential is cut in two and missed.
            first, second = redact(str(pair["first"])), redact(str(pair["second"]))
            good, bad = (first, second) if pair["target"] == "a" else (second, first)
            question = pair.get("question")
            entry["question"] = redact(str(question)) if isinstance(question, str) else None
            entry["good"], entry["bad"] = difference(good, bad)
        out.append(entry)
    return out


def exam_view(
    probes: pd.DataFrame,
    suite: str,
    *,
    thresholds: Mapping[str, Any],
    confidence: float = 0.95,
) -> dict[str, Any] | None:
    """The exam section of one suite, as plain (redacted) data; None when it ran no exam.

    ``probes`` is the run's probe table (probes.jsonl: exam rows have ``kind == "exam"``;
    the extra columns ``first``, ``second`` and ``question`` hold each pair's texts);
    ``thresholds`` the suite's reliability thresholds as recorded (``min_exam_accuracy``).
    Keys: limit, confidence, kinds (the kinds of question asked), judges (per judge: judge,
    family, pooled figure and one per kind, each with its status and badge), mistakes (per
    judge: the pairs it got wrong, worst first, with the question and the two answers split
    around their difference).
    """
    if probes.empty or not {"suite", "kind"} <= set(probes.columns):
        return None
    mine = probes.loc[(probes["suite"] == suite) & (probes["kind"] == "exam")]
    if mine.empty:
        return None
    limit = thresholds.get("min_exam_accuracy", 0.75)
    figures = exam_accuracy(mine, confidence)
    kinds = sorted(k for k in figures["probe"].unique() if k != ALL_KINDS)
    judges = []
    for judge, rows in figures.groupby("judge", sort=True):
        by_kind = {str(r["probe"]): _figure(r, limit) for r in rows.to_dict("records")}
        judges.append(
            {
                "judge": str(judge),
                "family": str(rows["judge_family"].iloc[0]),
                "pooled": by_kind.pop(ALL_KINDS),
                "kinds": by_kind,
            }
        )
    by_judge: dict[str, list[dict[str, Any]]] = {}
    for m in _mistakes(mine):
        by_judge.setdefault(str(m["judge"]), []).append(m)
    view = {
        "limit": limit,
        "confidence": confidence,
        "kinds": kinds,
        "judges": judges,
        "mistakes": by_judge,
    }
    redacted: dict[str, Any] = redact_data(view)
    return redacted


def suite_exam(run: RunData, suite: SuiteRecord) -> dict[str, Any] | None:
    """:func:`exam_view` of one suite of a loaded run, under the thresholds its audit used."""
    audit = suite.audit
    return exam_view(
        run.probes,
        suite.name,
        thresholds=audit.thresholds if audit is not None else {},
        confidence=audit.confidence if audit is not None else 0.95,
    )
