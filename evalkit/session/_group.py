"""A suite of several candidates: its pairs, each run as a sub-suite, and their leaderboard.

``Suite(candidates=[a, b, c])`` is run as one ordinary suite per pair, named
``<suite>/<label>`` for a candidate against the baseline and ``<suite>/<label> vs <label>``
for a round-robin pair (``round_robin=True``). Each pair is judged in both orders by the same
panel, audited, and — against the baseline only — gated, exactly as a one-candidate suite
is; the answers are shared through the response cache, so each candidate's answers are asked
once however many pairs it is in. Why sub-suites rather than one table: the panel and the
audit key an item by (suite, item, judge, sample, order), which holds one pair per item.

The leaderboard is then fitted once for the group, over every pair's rows together
(:func:`group_leaderboard`), with the items of all pairs keyed by the group's name so that
the bootstrap resamples an item with every comparison made on it.

What a gate means per candidate: each candidate's pair against the baseline has the suite's
gates, decided on that pair alone; ``WinRate`` is the candidate's observed win rate against
the baseline (Wilson interval), not the rate the leaderboard's ratings imply. Round-robin
pairs feed the leaderboard only. Scored suites (pointwise, reference) get one sub-suite per
candidate, gated; the leaderboard is pairwise-only and they have none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Final

import pandas as pd

from evalkit.audit._reliability import VERDICTS
from evalkit.candidates._app import App
from evalkit.candidates._recorded import Recorded
from evalkit.candidates._variant import Variant
from evalkit.errors import UsageError
from evalkit.graders._base import GRADER_FAMILY
from evalkit.panel import PanelRule
from evalkit.records import SuiteRecord
from evalkit.records._run import LeaderboardRecord, SuiteModels
from evalkit.session._result import SuiteResult
from evalkit.session._suite import Candidate, Suite

#: Separates a round-robin pair's two labels in its sub-suite's name.
VERSUS: Final = " vs "


def label_of(candidate: Candidate) -> str:
    """How the tables name a candidate: a model string itself, else its declared label."""
    if isinstance(candidate, App | Recorded | Variant):
        return candidate.label
    return candidate


@dataclasses.dataclass(frozen=True)
class Pair:
    """One sub-suite of a multi-candidate suite: who is compared, and whether it is gated."""

    #: the candidate's label (a round-robin pair: ``<a> vs <b>``).
    label: str
    suite: Suite
    #: against the suite's baseline (gated), or a round-robin pair (leaderboard only).
    round_robin: bool = False


def check_candidates(suite: Suite) -> list[str]:
    """Check a suite's ``candidates`` declaration; return the candidates' labels in order.

    Pure: needs no configuration (the baseline is checked by :func:`pairs`).

    Raises:
        UsageError: naming the suite, when ``candidates`` is empty or set together with
            ``candidate``, when two candidates share a label, or when ``round_robin`` is set
            with fewer than two candidates, without ``candidates``, or on a scored suite.
    """
    where = f"suite {suite.name!r}"
    if suite.candidates is None:
        if suite.round_robin:
            raise UsageError(
                f"{where}: round_robin=True compares the suite's candidates with each other; "
                "list two or more in candidates=[...]"
            )
        return []
    if suite.candidate is not None:
        raise UsageError(
            f"{where}: both candidate= and candidates= are set; keep one (candidates=[...] "
            "may list the one candidate too)"
        )
    if isinstance(suite.candidates, str) or not len(suite.candidates):
        raise UsageError(
            f"{where}: candidates={suite.candidates!r} lists no candidate; give a list of "
            "model strings, evalkit.app(...), evalkit.recorded(...) or evalkit.variant(...), "
            "or leave it out to evaluate the configured candidate"
        )
    labels = [label_of(c) for c in suite.candidates]
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise UsageError(
                f"{where}: two candidates are named {label!r}; every candidate needs its own "
                "name (evalkit.variant(..., name=), evalkit.app(..., name=, version=), "
                "evalkit.recorded(..., name=))"
            )
        seen.add(label)
    if suite.round_robin and len(labels) < 2:
        raise UsageError(
            f"{where}: round_robin=True needs two candidates or more, and candidates lists "
            f"one ({labels[0]!r}); add a candidate or drop round_robin"
        )
    if suite.round_robin and suite.mode != "pairwise":
        raise UsageError(
            f"{where}: round_robin=True compares answers pairwise, and the suite is "
            f"{suite.mode}; drop round_robin (each candidate is scored on its own) or make "
            "the suite pairwise"
        )
    return labels


def pairs(suite: Suite, baseline: Candidate | None) -> list[Pair]:
    """The sub-suites of a multi-candidate suite: each candidate against the baseline first.

    ``baseline`` is the suite's or the configured one (None for a scored suite that asks
    none); with ``round_robin``, every pair of candidates follows.

    Raises:
        UsageError: the declaration is invalid (see :func:`check_candidates`), or a
            candidate is the baseline itself.
    """
    labels = check_candidates(suite)
    assert suite.candidates is not None, "pairs() of a suite without candidates"
    base = None if baseline is None else label_of(baseline)
    for label in labels:
        if label == base:
            raise UsageError(
                f"suite {suite.name!r}, candidate {label!r}: it is the baseline too; a model "
                "cannot be compared with itself. Drop it from candidates, or set the suite's "
                "baseline= (or --evalkit-baseline) to another model"
            )
    entries = list(zip(labels, suite.candidates, strict=True))
    out = [Pair(label, _sub(suite, label, cand, suite.baseline)) for label, cand in entries]
    if suite.round_robin:
        for i, (la, a) in enumerate(entries):
            for lb, b in entries[i + 1 :]:
                label = f"{la}{VERSUS}{lb}"
                out.append(Pair(label, _sub(suite, label, a, b, gated=False), round_robin=True))
    return out


def _sub(
    suite: Suite,
    label: str,
    candidate: Candidate,
    baseline: Candidate | None,
    *,
    gated: bool = True,
) -> Suite:
    """The one-pair suite ``<suite>/<label>``: the same declaration, one candidate."""
    return dataclasses.replace(
        suite, name=f"{suite.name}/{label}", candidate=candidate, baseline=baseline,
        candidates=None, round_robin=False, gates=suite.gates if gated else (), group=suite.name,
    )  # fmt: skip


def group_leaderboard(
    group: str,
    tables: Sequence[pd.DataFrame],
    rule: PanelRule,
    *,
    baseline: str,
    verdicts: Mapping[str, str] | None = None,
    confidence: float,
    seed: int,
) -> LeaderboardRecord:
    """The leaderboard of a group's pairs: Bradley-Terry over every pair's judge rows.

    ``tables`` are the pairs' judgments tables (graders' rows are left out); their items are
    keyed by ``group`` so that an item's comparisons in every pair are resampled together.
    ``verdicts`` (judge → its worst reliability verdict over the pairs) weigh the judges
    when the rule's aggregation is ``weighted``.

    Raises:
        UsageError: the rows cannot be ranked (see :func:`evalkit.leaderboard.leaderboard`).
    """
    # Here, not at the top: collecting suites (which checks their candidates) must not load
    # the statistics libraries.
    from evalkit.leaderboard import leaderboard

    rows = pd.concat([t.loc[t["judge_family"] != GRADER_FAMILY] for t in tables],
                     ignore_index=True)  # fmt: skip
    rows["suite"] = group
    weights = None
    if rule.aggregation == "weighted" and verdicts:
        frame = pd.DataFrame({"judge": list(verdicts), "verdict": list(verdicts.values())})
        weights = rule.judge_weights(frame)
    board = leaderboard(
        rows, rule, baseline=baseline, judge_weights=weights, confidence=confidence, seed=seed
    )
    return LeaderboardRecord.model_validate(board.to_dict())


#: Reliability verdicts from best to worst: a judge weighs what its worst pair says.


def _badness(verdict: str) -> int:
    return VERDICTS.index(verdict) if verdict in VERDICTS else len(VERDICTS)


def worst_verdicts(per_pair: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """Each judge's worst reliability verdict over the pairs.

    >>> worst_verdicts([{"a": "trusted", "b": "untrusted"}, {"a": "questionable"}])
    {'a': 'questionable', 'b': 'untrusted'}
    """
    out: dict[str, str] = {}
    for verdicts in per_pair:
        for judge, verdict in verdicts.items():
            old = out.get(judge)
            out[judge] = verdict if old is None else max(old, verdict, key=_badness)
    return out


@dataclasses.dataclass(frozen=True)
class GroupResult:
    """What a multi-candidate suite produced: each pair's result and the group's leaderboard."""

    name: str
    #: each pair's result by its label, candidates against the baseline first.
    pairs: Mapping[str, SuiteResult]
    #: the labels of the pairs against the baseline: the candidates, in declared order.
    candidates: tuple[str, ...]
    leaderboard: LeaderboardRecord | None

    def pair(self, label: str) -> SuiteResult:
        """The result of the pair labelled ``label``."""
        return self.pairs[label]

    def record(self) -> SuiteRecord:
        """The group's part of run.json: its leaderboard and the names of its pairs.

        The pairs' own records (calls, gates, audit) are suites of the run; this one holds
        what belongs to the group only, and counts no call.
        """
        first = self.pairs[self.candidates[0]].models
        families = sorted({self.pairs[c].models["candidate"]["family"] for c in self.candidates})
        models = {
            **{k: first[k] for k in ("baseline", "panel", "mode", "family_policy", "judges")},
            "candidate": {"name": ", ".join(self.candidates), "family": ", ".join(families)},
        }
        return SuiteRecord(
            name=self.name,
            models=SuiteModels.model_validate(models),
            leaderboard=self.leaderboard,
            pairs=[r.name for r in self.pairs.values()],
        )


def suites_of(suite: Suite, configured_baseline: str) -> list[Suite]:
    """The suites that run for ``suite``: itself, or its pairs when it has ``candidates``.

    Raises:
        UsageError: see :func:`pairs`.
    """
    check_candidates(suite)
    if suite.candidates is None:
        return [suite]
    return [p.suite for p in pairs(suite, suite.baseline_model(configured_baseline))]
