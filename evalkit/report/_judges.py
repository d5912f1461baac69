"""The judge reliability dashboard and the agreement figures, read from a suite's audit.

The audit (:meth:`evalkit.audit.AuditReport.to_dict`, stored in run.json) already holds every
figure; this module only gathers, per judge, the ones a reviewer needs side by side, so that
the template stays a layout. Missing frames (an old run, a pointwise suite) give empty rows,
never an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from evalkit.report._format import num, pct

Record = Mapping[str, Any]

#: Panel agreement statistics, in the order shown, with their names.
PANEL_STATISTICS: Final = (
    ("fleiss_kappa", "Fleiss' kappa"),
    ("alpha_nominal", "Krippendorff's alpha (nominal)"),
    ("alpha_ordinal", "Krippendorff's alpha (ordinal)"),
    ("alpha_interval", "Krippendorff's alpha (interval)"),
    ("raw_agreement", "raw agreement"),
)


def _by_judge(records: Sequence[Record], key: str = "judge") -> dict[str, Record]:
    """The first record of each judge (records of one mode hold one row per judge)."""
    out: dict[str, Record] = {}
    for record in records:
        out.setdefault(str(record[key]), record)
    return out


def _pairwise_first(records: Sequence[Record]) -> list[Record]:
    """Pairwise rows first, so that a judge used in two modes shows its pairwise figures."""
    return sorted(records, key=lambda r: r.get("mode", "pairwise") != "pairwise")


def self_preference_note(record: Record | None) -> str | None:
    """What a self-preference figure is the difference of: the judge's favour and the others'.

    The figure is ``own_favour - others_favour``, so the note shows exactly those two
    quantities, in the figure's unit: shares as percentages (one decimal, so that their
    difference reads as the figure does), scores as scores. None when not measured.
    """
    if not record or not record.get("measurable"):
        return None
    own, others = record.get("own_favour"), record.get("others_favour")
    if record.get("unit") == "score":
        return f"own {num(own, 2)} vs others {num(others, 2)} (mean score)"
    return f"own {pct(own)} vs others {pct(others)}"


def judge_rows(audit: Record) -> list[dict[str, Any]]:
    """One row per judge: its verdict and reasons, and each bias figure with its interval.

    Keys: judge, family, verdict, reasons (list of sentences), position (flip and first-
    position figures), self_preference (and self_preference_note, see
    :func:`self_preference_note`), verbosity, kappa (mean kappa with the other judges and
    the best one), human (accuracy and kappa against human labels, or None), checks.
    """
    position = _by_judge(audit.get("position", []))
    self_pref = _by_judge(_pairwise_first(audit.get("self_preference", [])))
    verbosity = _by_judge(audit.get("verbosity", []))
    kappa = _by_judge(_pairwise_first(audit.get("kappa_with_others", [])))
    human = _by_judge(_pairwise_first(audit.get("human", [])), key="rater")
    checks: dict[str, list[Record]] = {}
    for check in audit.get("checks", []):
        checks.setdefault(str(check["judge"]), []).append(check)
    rows = []
    for rel in audit.get("reliability", []):
        judge = str(rel["judge"])
        reasons = [r for r in str(rel.get("reasons") or "").split("; ") if r]
        rows.append(
            {
                "judge": judge,
                "family": rel.get("judge_family"),
                "verdict": rel.get("verdict"),
                "reasons": reasons,
                "position": position.get(judge),
                "self_preference": self_pref.get(judge),
                "self_preference_note": self_preference_note(self_pref.get(judge)),
                "verbosity": verbosity.get(judge),
                "kappa": kappa.get(judge),
                "human": human.get(judge),
                "checks": checks.get(judge, []),
            }
        )
    return rows


def panel_figures(audit: Record) -> list[dict[str, Any]]:
    """Fleiss' kappa, Krippendorff's alpha and raw agreement of the panel, per mode."""
    by_key = {(r["mode"], r["statistic"]): r for r in audit.get("panel_agreement", [])}
    modes = sorted({mode for mode, _ in by_key}, key=lambda m: m != "pairwise")
    return [
        {"mode": mode, "name": name, **by_key[(mode, stat)]}
        for mode in modes
        for stat, name in PANEL_STATISTICS
        if (mode, stat) in by_key
    ]


def human_rows(audit: Record) -> list[Record]:
    """Each judge's (and the panel's) accuracy and kappa against the human labels."""
    return list(audit.get("human", []))
