"""Preparing a suite: its rows, its panel, its templates and its models, checked before any call.

The run, the preflight before it and the dry run all prepare a suite with
:func:`prepare_suite`, so that what is checked, which model plays which role and how each is
reached cannot differ between them. Resolving starts nothing: a bundled model's server starts
on the run's first cache miss (see :meth:`~evalkit.session._endpoints.Resolver.locate`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from evalkit.candidates._app import App
from evalkit.candidates._http import HttpApp
from evalkit.candidates._recorded import Recorded
from evalkit.candidates._variant import Variant
from evalkit.config import EvalkitConfig
from evalkit.judging import JudgeRegistry
from evalkit.models._types import PromptStyle
from evalkit.probes._exam import check_exam
from evalkit.records._dataset import Item
from evalkit.records._shard import in_shard
from evalkit.session._endpoints import Endpoint, app_endpoint, recorded_endpoint
from evalkit.session._engine import SuiteContext, app_row, check_inputs, check_variant, load_panel
from evalkit.session._probes import check_rewriters
from evalkit.session._suite import Candidate, Suite


class Resolve(Protocol):
    """Turns a configured model name into its endpoint (:meth:`Resolver.resolve`)."""

    def __call__(
        self,
        name: str,
        *,
        family: str | None = None,
        prompt_style: PromptStyle | None = None,
        api_base: str | None = None,
    ) -> Endpoint:
        """Return the endpoint of ``name``; explicit arguments override what is inferred."""
        ...


def prepare_suite(
    suite: Suite,
    config: EvalkitConfig,
    registry: JudgeRegistry,
    resolve: Resolve,
    *,
    run_id: str,
) -> SuiteContext:
    """Load and check everything ``suite`` needs, then resolve its models.

    The dataset, the panel (the suite's, else the configured one, in the suite's mode), its
    judges' specs and templates, and the suite's prompt rendered for every row are all checked
    before ``resolve`` is first called: a bad input is reported before a server starts or a
    results file is opened. The candidate and the baseline are the suite's own, else the
    configured ones, reached through the configured ``*_api_base``; a scored suite asks a
    baseline only when it names one (:meth:`~evalkit.session._suite.Suite.baseline_model`).
    A candidate app becomes an endpoint of its own; recorded answers are read and matched
    with the items here, so that a missing or unknown id stops the run before it starts.
    With ``config.shard``, the context holds only the shard's items (all are checked).

    Raises:
        UsageError: the first bad input found, naming its file, row, field or model (from
            :func:`~evalkit.session._engine.check_inputs`, the registry or ``resolve``), or
            a self-rewrite probe for a judge that cannot paraphrase (see
            :func:`~evalkit.session._probes.check_rewriters`).
        LocalModelError: ``resolve`` could not start a bundled model.
    """
    items = suite.items()
    panel = load_panel(registry, suite.panel or config.panel, suite.mode)
    check_inputs(suite, items, panel, registry.templates)
    if suite.exam:
        check_exam(
            suite.name,
            items,
            has_graders=bool(suite.graders),
            reference_field=suite.reference_field,
        )
    for entry in (suite.candidate, suite.baseline):
        if isinstance(entry, Variant):
            check_variant(suite, items, registry.templates, entry)
    candidate = _endpoint(
        suite.candidate or config.candidate, suite, items, resolve, config.candidate_api_base
    )
    asked = suite.baseline_model(config.baseline)
    baseline = (
        None if asked is None else _endpoint(asked, suite, items, resolve, config.baseline_api_base)
    )
    judges = {
        j.name: resolve(
            j.spec.model,
            family=j.family,
            prompt_style=j.spec.prompt_style,
            api_base=j.spec.api_base,
        )
        for j in panel.judges
    }
    dataset = items
    if config.shard is not None:
        # Only once every item is checked (and recorded answers matched to all of them): a
        # bad row in another shard's part stops every shard, as it stops the whole run.
        # The pairs of a suite with candidates are sharded as that suite is: an item's pairs
        # (and so its leaderboard comparisons) stay together, in the shard of its item tests.
        items = in_shard(suite.group or suite.name, items, config.shard.index, config.shard.count)
    ctx = SuiteContext(
        run_id=run_id,
        suite=suite,
        items=items,
        candidate=candidate,
        baseline=baseline,
        panel=panel,
        judges=judges,
        templates=registry.templates,
        dataset=dataset,
    )
    check_rewriters(ctx)
    return ctx


def _endpoint(
    entry: Candidate, suite: Suite, items: Sequence[Item], resolve: Resolve, api_base: str | None
) -> Endpoint:
    """The endpoint of a candidate or baseline: a model, an app, recorded answers or a variant.

    An HTTP app's body is rendered for every row, and recorded answers are read and matched
    with the items, here, before any call.
    """
    if isinstance(entry, App):
        if isinstance(entry.fn, HttpApp):
            for item in items:  # a body template that fails for a row fails before any call
                entry.fn.payload(app_row(item), f"item {item.id!r}")
        return app_endpoint(entry)
    if isinstance(entry, Recorded):
        return recorded_endpoint(entry, entry.load(items, suite.base_dir, suite.dataset_path()))
    if isinstance(entry, Variant):
        model = resolve(entry.model, api_base=api_base)
        return dataclasses.replace(model, name=entry.label, variant=entry)
    return resolve(entry, api_base=api_base)
