"""A suite's declaration: a dataset, how to ask the models, and the gates its results must clear.

This is what the session runs; it knows nothing of pytest. Users declare suites with
:class:`evalkit.Suite`, the same declaration with :meth:`~evalkit.Suite.tests` added, which
hands pytest the suite's test functions (see :mod:`evalkit._pytest_tests`).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evalkit.candidates._app import App
from evalkit.candidates._recorded import Recorded
from evalkit.errors import UsageError
from evalkit.gates import Gate, WinRate
from evalkit.graders import Grader
from evalkit.judging._templates import Templates
from evalkit.records._dataset import Item, load_dataset
from evalkit.records._judgments import Mode


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
    #: The candidate may also be the user's code (:func:`evalkit.app`) or answers that
    #: already exist (:func:`evalkit.recorded`).
    candidate: str | App | Recorded | None = None
    baseline: str | None = None
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
    #: folder that relative paths are resolved against (the declaring module's folder).
    base_dir: Path = dataclasses.field(default_factory=lambda: _caller_dir(3))

    def dataset_path(self) -> Path:
        """The dataset file, resolved against the suite module's folder."""
        path = Path(self.dataset)
        return path if path.is_absolute() else self.base_dir / path

    def items(self) -> tuple[Item, ...]:
        """Load and validate the dataset (raises DatasetError naming file, row and field)."""
        return load_dataset(self.dataset_path(), required=self.fields_needed())

    def fields_needed(self) -> tuple[str, ...]:
        """The dataset fields every row must hold: ``required_fields``, else those the prompt reads.

        >>> Suite("s", dataset="d.jsonl", prompt="{{ text }} in {{ lang }}").fields_needed()
        ('lang', 'text')
        """
        if self.required_fields is not None:
            return tuple(self.required_fields)
        return tuple(sorted(Templates.variables(self.prompt)))

    def baseline_model(self, configured: str) -> str | None:
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


def _caller_dir(depth: int) -> Path:
    # The frame that called Suite(...): _caller_dir <- default factory <- __init__ <- caller.
    return Path(sys._getframe(depth).f_code.co_filename).resolve().parent
