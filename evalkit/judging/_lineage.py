"""Family policy: what to do when a judge shares a family with a model it judges.

A judge grading its own family's answers (or items written by its own family) may measure
self-agreement rather than quality. A panel's ``family_policy`` decides, per judge:

- ``warn`` (default): keep the judge, and record the decision so that it is shown;
- ``exclude``: leave the judge out — of the whole item for a pairwise judge (it sees both
  answers at once), of that model's answers only for a pointwise or reference judge;
- ``error``: stop before any call, naming the panel file and the judge.

Judges of unknown family are never matched; deterministic graders have no family.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Final

from evalkit.errors import SpecError
from evalkit.judging._judge import Panel
from evalkit.models._families import UNKNOWN
from evalkit.records._answers import Role
from evalkit.records._dataset import Item

ROLES: Final[tuple[Role, ...]] = ("candidate", "baseline")


@dataclasses.dataclass(frozen=True, slots=True)
class LineageDecision:
    """A judge shares a family with a model whose answers or items it judges."""

    judge: str
    family: str
    shared_with: str  # "candidate", "baseline" or "generator"
    policy: str
    items: int
    #: the items concerned (all of them for the candidate and the baseline).
    item_ids: tuple[str, ...] = ()
    #: whether the judge scores answers one at a time, so only ``shared_with``'s are excluded.
    scored: bool = False

    def message(self) -> str:
        """One line for the terminal and the report."""
        if self.policy != "exclude":
            action = "kept (policy warn)"
        elif self.scored and self.shared_with != "generator":
            action = f"excluded from scoring the {self.shared_with}'s answers"
        else:
            action = "excluded for those items"
        return (
            f"judge {self.judge} is from the {self.family} family, like the {self.shared_with} "
            f"on {self.items} item(s): {action}; its verdicts there may measure self-agreement"
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Exclusions:
    """The (judge, item id, role) triples a family policy of ``exclude`` forbids."""

    triples: frozenset[tuple[str, str, Role]] = frozenset()

    def __call__(self, judge: str, item_id: str, role: Role) -> bool:
        """Whether ``judge`` may not see ``role``'s answer on ``item_id``."""
        return (judge, item_id, role) in self.triples

    def __len__(self) -> int:
        return len(self.triples)


def family_policy(
    panel: Panel,
    items: Sequence[Item],
    *,
    judge_families: Mapping[str, str],
    model_families: Mapping[Role, str],
) -> tuple[list[LineageDecision], Exclusions]:
    """Apply the panel's family policy: the decisions made, and the calls to leave out.

    ``judge_families`` maps each judge's name to its family as resolved for the run;
    ``model_families`` gives the candidate's and the baseline's (none when no baseline
    is asked).

    Raises:
        SpecError: the policy is ``error`` and a judge shares a family with a judged model
            or with an item's generator; the message names the panel file and the judge.
    """
    policy = panel.spec.family_policy
    decisions: list[LineageDecision] = []
    excluded: set[tuple[str, str, Role]] = set()
    for judge in panel.judges:
        family = judge_families.get(judge.name, judge.family)
        if family == UNKNOWN:
            continue
        scored = judge.mode != "pairwise"
        shared: list[tuple[str, Sequence[Item], tuple[Role, ...]]] = [
            (role, items, (role,) if scored else ROLES)
            for role in ROLES
            if model_families.get(role) == family
        ]
        written = [i for i in items if i.generator_family == family]
        if written:
            shared.append(("generator", written, ROLES))
        for who, hit, roles in shared:
            if policy == "error":
                where = f" ({panel.path})" if panel.path else ""
                raise SpecError(
                    f"panel {panel.name!r}{where}: judge {judge.name} is from the {family} "
                    f"family, like the {who}; pick a judge from another family, or set "
                    "family_policy to warn or exclude in the panel spec"
                )
            ids = tuple(i.id for i in hit)
            decisions.append(
                LineageDecision(judge.name, family, who, policy, len(ids), ids, scored)
            )
            if policy == "exclude":
                excluded.update((judge.name, i, r) for i in ids for r in roles)
    if excluded:
        _check_quorum_reachable(panel, items, excluded)
    return decisions, Exclusions(frozenset(excluded))


def _check_quorum_reachable(
    panel: Panel, items: Sequence[Item], excluded: set[tuple[str, str, Role]]
) -> None:
    """Refuse a run in which exclusions leave every item below the quorum.

    Such a run would pay for every call and abstain on every item.
    """
    units: list[tuple[Role, ...]] = [ROLES] if panel.mode == "pairwise" else [(r,) for r in ROLES]
    most = (
        max(
            sum(
                not any((judge.name, item.id, role) in excluded for role in shown)
                for judge in panel.judges
            )
            for item in items
            for shown in units
        )
        if items
        else len(panel.judges)
    )
    quorum = panel.spec.quorum
    if most < quorum:
        where = f" ({panel.path})" if panel.path else ""
        raise SpecError(
            f"panel {panel.name!r}{where}: family_policy exclude leaves at most {most} judge(s) "
            f"on any item, fewer than the quorum of {quorum}, so every item would be "
            "abstained; add a judge from another family, lower the quorum, or use warn"
        )
