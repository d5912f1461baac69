"""The panel: how the judges' rows of a judgments table become one verdict (or score) per item.

Pure functions of the table, and one rule for all of them: the session builds a
:class:`PanelRule` from the suite's panel spec, and the audit, the gates and the report get
their item verdicts from :func:`item_verdicts` with that rule, so that every figure of a run
agrees.

- :class:`PanelRule` — aggregation, quorum, disagreement, reliability weights.
- :func:`combine_orders` — one judge's verdict from its two orders (agree → that verdict;
  disagree → tie or no vote, per the rule).
- :func:`item_verdicts` — the panel of each mode under a rule.
- :data:`AGGREGATORS` — aggregation methods by name, built-ins included; add one with
  ``@AGGREGATORS.register("name")`` over ``@aggregator("verdict" | "score")``, or from a
  separate package through the entry-point group ``evalkit.aggregators``.
"""

from evalkit.panel._aggregate import AGGREGATORS, aggregator, item_verdicts
from evalkit.panel._combine import combine_orders
from evalkit.panel._rule import PanelRule

__all__ = [
    "AGGREGATORS",
    "PanelRule",
    "aggregator",
    "combine_orders",
    "item_verdicts",
]
