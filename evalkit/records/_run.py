"""The run record: what a run was and what it decided, as typed, versioned data (``run.json``).

One :class:`RunRecord` per run folder, written once when the run closes and read back by the
report, the comparison and the audit of a folder. A judgments table recorded elsewhere
becomes a :class:`RunRecord` too (status ``re-audited``), through the same models, so that
every reader sees one shape. The models forbid unknown fields: a run.json that is not what
this version of evalkit reads is an error naming the field, never a silent default.

``python -m evalkit.records.schema`` prints the JSON schema published as
``docs/run-record.schema.json``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Final, Literal

import pandas as pd
import pydantic

from evalkit.records._judgments import Mode
from evalkit.records._texts import SuiteTexts

#: The version of run.json's shape. Bump it whenever a field is renamed, removed, or changes
#: meaning, and regenerate ``docs/run-record.schema.json``.
SCHEMA_VERSION: Final = 1

#: A scalar cell of an audit table, as JSON holds it (NaN and infinities are written null).
Cell = str | int | float | bool | None
#: One row of an audit table (see :meth:`evalkit.audit.AuditReport.to_dict`).
Row = dict[str, Cell]
#: A gate's decision.
GateOutcome = Literal["pass", "fail", "inconclusive"]
#: ``complete``: every test ran; ``interrupted``: Ctrl-C stopped it; ``re-audited``: the
#: record was made afterwards from a judgments table that came without one.
RunStatus = Literal["complete", "interrupted", "re-audited"]


class _Record(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class ModelRef(_Record):
    """A candidate or baseline model and its family."""

    name: str
    family: str


class JudgeRef(_Record):
    """A judge of the panel: its name in the panel, the model it calls, and its family."""

    name: str
    model: str
    family: str


class SuiteModels(_Record):
    """Who was judged, and by which panel (``panel`` is empty for a re-audited table).

    ``baseline`` is None when the suite asked no baseline (a scored suite without ``baseline=``).
    """

    candidate: ModelRef
    baseline: ModelRef | None = None
    panel: str = ""
    mode: Mode | None = None
    family_policy: str | None = None
    judges: list[JudgeRef] = []
    graders: list[str] = []


class FailureGroup(_Record):
    """Calls that ended without a result for one reason (see :func:`failure_groups`)."""

    count: int
    #: ``failed`` (the call failed after retries), ``not_run`` or ``no_answer`` (never made).
    status: str
    #: the reason, without what differs between the calls (the model, the retry count).
    error: str


class CallCounts(_Record):
    """How many calls a suite made, and what became of them (see :data:`Status`).

    ``failed`` counts every judge call without a verdict that is not ``unparseable`` (the
    statuses in :data:`FAILED_STATUSES`); ``not_run`` and ``no_answer`` say how many of them
    were never made.
    """

    answers: int = 0
    #: model (or app) calls made for the answers: a conversation answered turn by turn makes
    #: one per turn, recorded answers none (see :attr:`evalkit.records._answers.Answer.calls`).
    answer_calls: int = 0
    answers_cached: int = 0
    answers_failed: int = 0
    judge: int = 0
    judge_cached: int = 0
    unparseable: int = 0
    failed: int = 0
    not_run: int = 0
    no_answer: int = 0
    #: answers and judge calls without a result, grouped by reason, most frequent first.
    failures: list[FailureGroup] = []


class Costs(_Record):
    """What a suite cost in US dollars, by who spent it (the audit makes no call)."""

    answers: float = 0.0
    judges: float = 0.0
    audit: float = 0.0


class Tokens(_Record):
    """Input plus output tokens of a suite's calls."""

    answers: int = 0
    judges: int = 0


class GateRecord(_Record):
    """One gate's outcome, with the figure and interval it was decided on (None: not measured)."""

    name: str
    outcome: GateOutcome
    figure: float | None
    low: float | None
    high: float | None
    n: int
    threshold: float | None
    message: str
    #: what the gate measured beyond its figure (e.g. the data comparison of matches_production).
    details: dict[str, Any] | None = None


class PanelVerdict(_Record):
    """One item's panel verdict (pairwise) or score (scored modes), or why it abstained."""

    item_id: str
    candidate: str | None = None
    verdict: str | None = None
    score: float | None = None
    abstained: bool = False
    reason: str | None = None


class LineageRecord(_Record):
    """A judge that shares a family with a judged model or the items' writer, and what was done."""

    judge: str
    family: str
    shared_with: str
    policy: str
    items: int
    item_ids: list[str] = []
    scored: bool = False
    message: str


class WinRateRecord(_Record):
    """The panel's wins, losses, ties and abstentions, and the win rate with its interval."""

    wins: int
    losses: int
    ties: int
    abstained: int
    n: int
    rate: float | None
    interval: dict[str, float | int | None]
    #: standard error of the rate (ties as half a win); None for records written before it.
    standard_error: float | None = None


class StandingRecord(_Record):
    """One model's place on a leaderboard (:class:`evalkit.leaderboard.Standing`).

    Ratings are on the Elo scale (the baseline at 1000); None where the model cannot be ranked.
    """

    model: str
    rank: int | None
    is_baseline: bool
    rating: float | None
    low: float | None
    high: float | None
    win_rate: float | None
    win_low: float | None
    win_high: float | None
    lc_rating: float | None
    lc_low: float | None
    lc_high: float | None
    items: int
    comparisons: int
    #: "won every comparison" or "lost every comparison": the rating rests on the prior.
    record: str | None = None


class LeaderboardRecord(_Record):
    """Bradley-Terry ratings of a suite's candidates (:class:`evalkit.leaderboard.Leaderboard`).

    Present when the suite's table has more than one candidate model.
    """

    baseline: str
    #: in rank order, best first; models that cannot be ranked against the baseline last.
    standings: list[StandingRecord]
    n_items: int
    n_comparisons: int
    n_abstained: int
    confidence: float
    n_boot: int
    seed: int
    prior: float
    length_coef: float | None = None
    length_low: float | None = None
    length_high: float | None = None
    #: groups of models with no chain of comparisons to the baseline.
    unranked: list[list[str]] = []
    #: runs of consecutive ranks whose intervals overlap.
    unseparated: list[list[int]] = []
    notes: list[str] = []


class FluentRecord(_Record):
    """Judges against deterministic checks (:func:`evalkit.audit._fluent.fluent_but_wrong`)."""

    kind: Literal["scored", "pairwise"]
    #: wrong answers (scored) or items where exactly one answer passed (pairwise).
    n_wrong: int
    #: of those, how many fooled most of the judges who judged them.
    n_fooled: int
    rate: float | None
    low: float | None
    high: float | None
    confidence: float
    #: why nothing was measured (no graders, no wrong answers), else None.
    reason: str | None = None
    #: the judge fooled most often.
    most_fooled: str | None = None
    judges: list[Row] = []
    items: list[Row] = []

    def summary_line(self) -> str:
        """One line for the terminal: the rate with its interval and the most fooled judge."""
        if self.reason is not None or self.rate is None:
            return f"fluent but wrong: not measured ({self.reason})"
        what = "wrong answers" if self.kind == "scored" else "items where one answer is wrong"
        low, high = self.low or 0.0, self.high or 0.0
        line = (
            f"fluent but wrong: {self.n_fooled} of {self.n_wrong} {what} fooled most judges "
            f"({self.rate:.0%} [{low:.0%}, {high:.0%}])"
        )
        return line + (f"; most fooled: {self.most_fooled}" if self.most_fooled else "")


class AuditSummary(_Record):
    """The bias audit of a suite's judges: every table of :class:`evalkit.audit.AuditReport`."""

    confidence: float
    seed: int
    n_boot: int
    thresholds: dict[str, Any]
    judges: list[Row] = []
    position: list[Row] = []
    option_order: list[Row] = []
    self_preference: list[Row] = []
    verbosity: list[Row] = []
    length_slope: list[Row] = []
    agreement: list[Row] = []
    kappa_with_others: list[Row] = []
    panel_agreement: list[Row] = []
    human: list[Row] = []
    corrected: list[Row] = []
    reliability: list[Row] = []
    checks: list[Row] = []
    tests: list[Row] = []
    panel: list[Row] = []
    score_panel: list[Row] = []
    win_rate: WinRateRecord | None = None
    fluent_but_wrong: FluentRecord | None = None
    #: each judge's verdict: trusted, questionable or untrusted.
    verdicts: dict[str, str] = {}
    #: the panel rule the suite's item verdicts were decided by (evalkit.panel.PanelRule).
    rule: dict[str, Any] | None = None
    summary: list[str] = []


class SuiteRecord(_Record):
    """What one suite ran, what it cost, and what its gates and audit decided."""

    name: str
    models: SuiteModels
    calls: CallCounts = CallCounts()
    cost_usd: Costs = Costs()
    tokens: Tokens = Tokens()
    gates: list[GateRecord] = []
    #: each item's panel verdict: what the gates were decided on.
    panel: list[PanelVerdict] = []
    lineage: list[LineageRecord] = []
    #: each judge's position behaviour as the audit measured it
    #: (:func:`evalkit.audit.position_bias`, with the Holm-adjusted ``p_holm``).
    position: list[Row] = []
    audit: AuditSummary | None = None
    #: the candidates' leaderboard, when the suite judged more than one candidate.
    leaderboard: LeaderboardRecord | None = None
    #: a suite of several candidates (``Suite(candidates=[...])``): the sub-suites its pairs
    #: ran as, each a suite of the run (``<suite>/<label>``); this record holds their
    #: leaderboard, ``models.candidate`` names them together.
    pairs: list[str] = []
    #: why the suite stopped before all its calls were made (the budget), if it did.
    stopped: str | None = None
    #: a seeded sample of the clean inputs and the candidate's answers, kept so that an
    #: accepted run can be compared for diversity (the Diversity gate).
    texts: SuiteTexts | None = None
    #: each (judge, bias probe)'s robustness, shift and test against swap noise
    #: (:func:`evalkit.probes._stats.probe_stats`); the calls' rows are in probes.jsonl.
    probes: list[Row] = []


class SuiteSource(_Record):
    """Where a suite of a shard was declared, and a digest of the items it asked."""

    #: the suite's module, relative to the project root (``evalkit merge`` imports it).
    module: str
    #: :func:`evalkit.records._shard.dataset_digest` of every item of the suite (all shards).
    dataset_digest: str


class ShardRecord(_Record):
    """Which shard of which run a run folder holds (``--evalkit-shard=K/N``)."""

    index: int
    count: int
    #: the id every shard of the run shares (``EVALKIT_RUN_GROUP``, or derived).
    group: str
    #: every suite the run collected, by name (also those with no item in this shard).
    suites: dict[str, SuiteSource] = {}

    def note(self) -> str:
        """What a shard's figures are worth, for its summary and its report."""
        return (
            f"shard {self.index}/{self.count} of run group {self.group}: partial. Its gates "
            "and audit cover this shard's items only and decide nothing; `evalkit merge` "
            "joins the shards and decides the gates on the whole run"
        )


class CacheOutage(_Record):
    """The response cache became unusable during the run (e.g. its Redis server went down).

    From then on that process ran without a cache: every call went to its model and no answer
    was stored. Written by :meth:`evalkit.models.ResponseCache.outage`.
    """

    #: Unix time of the first cache command that failed.
    at: float
    #: what failed: ``connection`` (refused or dropped), ``timeout``, ``auth`` (the password
    #: was refused) or ``error`` (any other error reply).
    kind: str
    #: where the cache was, its password hidden.
    store: str
    #: the failure as the warning gave it, the password hidden.
    message: str
    #: calls that could not look in the cache and went to their model (the failed lookup too).
    calls_without_cache: int = 0
    #: answers that could not be stored, so a rerun asks their models again.
    answers_not_cached: int = 0
    #: the pytest-xdist worker that lost the cache (None: the run's only process).
    worker: str | None = None

    def note(self, started: float | None = None) -> str:
        """One sentence for the summary and the report; ``started`` is the run's start time."""
        when = f"{dt.datetime.fromtimestamp(self.at, dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
        if started is not None:
            when += f", {max(self.at - started, 0.0):.0f} s into the run"
        where = "" if self.worker is None else f" in worker {self.worker}"
        return (
            f"response cache lost{where}: {self.message} ({self.kind}, at {when}); the run went "
            f"on without it: {self.calls_without_cache} calls went to their models without it "
            f"and {self.answers_not_cached} answers were not cached"
        )


class RunRecord(_Record):
    """A run: its identity, configuration, times, status, suites and errors (``run.json``)."""

    schema_version: Literal[1] = SCHEMA_VERSION
    run_id: str
    status: RunStatus
    evalkit_version: str | None = None
    config_digest: str | None = None
    config: dict[str, Any] = {}
    #: Unix times; None for a re-audited table.
    started: float | None = None
    finished: float | None = None
    host: str | None = None
    suites: list[SuiteRecord] = []
    #: suites that could not run, by suite name: the message that says why.
    errors: dict[str, str] = {}
    #: the baseline files this run was accepted into (``--evalkit-accept``).
    accepted: list[str] = []
    #: set when the run is one shard of a run: its gates, audit and report are partial.
    shard: ShardRecord | None = None
    #: the run ids of the shards ``evalkit merge`` made this run from.
    merged_from: list[str] = []
    #: the response cache lost during the run, one per process that lost it (none: it held).
    cache_outages: list[CacheOutage] = []

    def suite(self, name: str) -> SuiteRecord:
        """The suite called ``name``.

        Raises:
            KeyError: the run has no such suite.
        """
        for suite in self.suites:
            if suite.name == name:
                return suite
        raise KeyError(name)


def _cell(value: Any) -> Cell:
    """A table cell as JSON holds it: numpy scalars become Python ones, NaN and NA None."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, str | int | float | bool) else str(value)


def table_rows(frame: pd.DataFrame) -> list[Row]:
    """A DataFrame as rows of a record (see :data:`Row`)."""
    records = frame.astype(object).to_dict(orient="records")
    return [{str(k): _cell(v) for k, v in row.items()} for row in records]


def run_record_schema() -> dict[str, Any]:
    """The JSON schema of run.json, as published in ``docs/run-record.schema.json``."""
    return RunRecord.model_json_schema()
