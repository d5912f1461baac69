"""A suite's declaration: a dataset, how to ask the models, and the gates its results must clear.

This is what the session runs; it knows nothing of pytest. Users declare suites with
:class:`evalkit.Suite`, the same declaration with :meth:`~evalkit.Suite.tests` added, which
hands pytest the suite's test functions (see :mod:`evalkit._pytest_tests`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from evalkit._caller import caller_dir
from evalkit.candidates._app import App
from evalkit.candidates._recorded import Recorded
from evalkit.candidates._variant import Variant
from evalkit.data._perturb import check_perturbations, with_variants
from evalkit.errors import UsageError
from evalkit.gates import Gate, WinRate
from evalkit.graders import Grader
from evalkit.judging._templates import Templates
from evalkit.probes._edits import check_probes
from evalkit.probes._exam import exam_size
from evalkit.records._dataset import Item, load_dataset, split_turns
from evalkit.records._judgments import Mode

#: What a suite can evaluate: a model string, an app, recorded answers or a prompt variant.
Candidate = str | App | Recorded | Variant


@dataclasses.dataclass(frozen=True)
class Suite:
    """The declaration of an eval suite: frozen, validated when its rows are read."""

    name: str
    dataset: Path | str
    #: jinja2 template of the question put to the candidate and baseline; any dataset field.
    prompt: str = "{{ question }}"
    #: instructions for the answering models (a system message for chat models).
    system: str | None = "Answer the question correctly in one or two sentences."
    gates: Sequence[Gate] = (WinRate(),)
    #: overrides the configured candidate / baseline model for this suite only. A pointwise
    #: or reference suite needs no baseline: it asks one only when ``baseline`` is set here.
    #: The candidate may also be the user's code (:func:`evalkit.app`), answers that
    #: already exist (:func:`evalkit.recorded`) or a prompt variant (:func:`evalkit.variant`);
    #: so may the baseline.
    candidate: Candidate | None = None
    baseline: Candidate | None = None
    #: several candidates in one suite, each judged against the baseline as a sub-suite
    #: ``<name>/<label>`` of its own (gates apply to each), ranked on one leaderboard (see
    #: :mod:`evalkit.session._group`). Excludes ``candidate``.
    candidates: Sequence[Candidate] | None = None
    #: with ``candidates``: judge every pair of candidates against each other too.
    round_robin: bool = False
    #: set by evalkit on each pair of a suite with ``candidates``: that suite's name (a shard
    #: runs all the pairs of an item, and ``evalkit merge`` finds the pairs by it).
    group: str | None = None
    #: overrides the configured panel for this suite only.
    panel: str | None = None
    #: sampling parameters of the answering calls.
    answer_params: Mapping[str, Any] = dataclasses.field(
        default_factory=lambda: {"temperature": 0.0, "max_tokens": 96}
    )
    #: dataset fields every row must hold (checked before any call); by default the fields
    #: the prompt reads.
    required_fields: Sequence[str] | None = None
    #: how the panel judges: ``pairwise`` (candidate vs baseline, both orders), ``pointwise``
    #: (a rubric score per answer) or ``reference`` (a score against the dataset's reference);
    #: the configured panel is replaced by its variant for this mode (see judges/README.md).
    mode: Mode = "pairwise"
    #: deterministic graders run on every answer (evalkit.graders), recorded beside the judges.
    graders: Sequence[Grader] = ()
    #: the dataset field holding the reference answer that reference judges are shown.
    reference_field: str = "reference"
    #: conversation rows with ``turns``: judge the ``final`` turn's answer, or ``each`` turn's
    #: (then every turn is an item of its own, ``<id>#t<k>``, for the panel, audit and gates).
    judge_turns: Literal["final", "each"] = "final"
    #: production-like variants to ask besides each item (evalkit.data._perturb.PERTURBATIONS:
    #: typos, lowercase, no_punctuation, abbreviations, merged_intents, chat_register); each
    #: item's variants are answered and judged like items, and the Robustness gate reports the
    #: paired drop. The fields the prompt reads are perturbed, never the reference.
    perturbations: Sequence[str] = ()
    #: seeds the perturbations: the same seed asks the same variants (and hits the cache).
    perturbation_seed: int = 0
    #: folder that relative paths are resolved against (the declaring module's folder).
    base_dir: Path = dataclasses.field(default_factory=lambda: caller_dir(3))
    #: bias probes (:data:`evalkit.probes.PROBES`: verbosity, authority, bandwagon, ...) that
    #: every judge judges, in both orders, on a seeded sample of ``probe_items`` items once
    #: the panel has judged the suite (pairwise suites; see :mod:`evalkit.probes`).
    probes: Sequence[str] = ()
    probe_items: int = 10
    #: seeds the sample and the edits: the same seed asks the same probes (and hits the cache).
    probe_seed: int = 0

    #: the qualification exam (evalkit.probes._exam): every judge judges pairs whose better
    #: answer is known (graders' verdicts, planted errors in references or passing answers) on
    #: a seeded sample of this many items, or every item that qualifies with True (pairwise
    #: suites).
    exam: bool | int = False

    def __post_init__(self) -> None:
        """Refuse probes or an exam the suite cannot run, when it is declared (before any test).

        Raises:
            UsageError: ``exam`` is neither True, False nor a whole number of at least 1, or an
                exam on a scored suite; an unknown probe (the message lists the known ones),
                probes on a scored suite, or ``probe_items`` below 1.
        """
        if exam_size(self.name, self.exam) != 0 and self.mode != "pairwise":
            # An exam question is a *pair* judged side by side; a scored suite's judges score
            # one answer at a time, which would need comparing two scores instead.
            raise UsageError(
                f"suite {self.name!r}: exam={self.exam!r} needs a pairwise suite (mode "
                f"{self.mode!r} scores each answer on its own); remove exam, or judge the "
                "suite pairwise"
            )
        if not self.probes:
            return
        where = f"suite {self.name!r}"
        check_probes(self.probes, where=where)
        if self.mode != "pairwise":
            # A probe is a controlled edit of a *pair*: on a scored suite the edit would have
            # to be compared with the same answer's unedited score, a different statistic.
            raise UsageError(
                f"{where}: probes={list(self.probes)!r} need a pairwise suite (mode "
                f"{self.mode!r} scores each answer on its own); remove probes, or judge the "
                "suite pairwise"
            )
        if self.probe_items < 1:
            raise UsageError(f"{where}: probe_items={self.probe_items}; use 1 or more items")

    def dataset_path(self) -> Path:
        """The dataset file, resolved against the suite module's folder."""
        path = Path(self.dataset)
        return path if path.is_absolute() else self.base_dir / path

    def items(self) -> tuple[Item, ...]:
        """Load and validate the dataset; split conversations into turns; add variants.

        With ``judge_turns="each"``, a conversation of n turns is n items (see
        :func:`~evalkit.records._dataset.split_turns`); with ``perturbations``, each item is
        followed by its perturbed variants (see :func:`~evalkit.data._perturb.with_variants`).

        Raises:
            DatasetError: naming the file, row and field (see :func:`load_dataset`).
            UsageError: ``judge_turns`` is neither ``final`` nor ``each``, or a perturbation
                is unknown.
        """
        if self.judge_turns not in ("final", "each"):
            raise UsageError(
                f"suite {self.name!r}: judge_turns={self.judge_turns!r}; use 'final' (judge "
                "the last turn's answer) or 'each' (judge every turn's)"
            )
        path = self.dataset_path()
        items = load_dataset(
            path,
            required=self.fields_needed(),
            # A conversation is asked instead of the prompt: only fields required by name.
            conversation_required=self.required_fields or (),
        )
        if self.judge_turns == "each":
            items = split_turns(items, path)
        if not self.perturbations:
            return items
        check_perturbations(self.perturbations, where=f"suite {self.name!r}")
        texts = [f for f in Templates.variables(self.prompt) if f != self.reference_field]
        return with_variants(
            items, self.perturbations, sorted(texts), seed=self.perturbation_seed, source=str(path)
        )

    def fields_needed(self) -> tuple[str, ...]:
        """The dataset fields every row must hold: ``required_fields``, else those the prompt reads.

        >>> Suite("s", dataset="d.jsonl", prompt="{{ text }} in {{ lang }}").fields_needed()
        ('lang', 'text')
        """
        if self.required_fields is not None:
            return tuple(self.required_fields)
        return tuple(sorted(Templates.variables(self.prompt)))

    def baseline_model(self, configured: str) -> Candidate | None:
        """The baseline this suite asks: its own, else ``configured`` if pairwise, else none.

        A scored suite grades each answer on its own, so a baseline answer would be paid for
        and never needed unless the suite asks for one to compare with.

        >>> Suite("s", dataset="d.jsonl", mode="pointwise").baseline_model("openai/gpt-4o")
        >>> Suite("s", dataset="d.jsonl").baseline_model("openai/gpt-4o")
        'openai/gpt-4o'
        """
        if self.baseline is not None:
            return self.baseline
        return configured if self.mode == "pairwise" else None

    def gate_names(self) -> list[str]:
        """The names of the suite's gates, in order.

        Raises:
            UsageError: two gates share a name. Each gate's result is found by its name, so a
                duplicate would let one gate's outcome stand in for the other's.
        """
        names = [gate.name for gate in self.gates]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise UsageError(
                    f"suite {self.name!r} has two gates named {name!r}: give one of them "
                    f"its own name, e.g. name={name + '-strict'!r}"
                )
            seen.add(name)
        return names
