"""Lineage: a dataset written by one model family, judged by a panel that includes that family.

These questions were drafted with a Gemma model, and each row says so (`generator_family:
google`). The default `local` panel includes Gemma-3-270M as a judge, so evalkit records the
overlap as a lineage decision under the panel's family policy (`warn`: kept, and flagged in the
terminal summary, run.json and the report). Set `family_policy: exclude` in a panel spec to drop
such a judge for those items, or `error` to refuse the run. The gate also requires the auditor
to trust the judges before the win rate may count.
"""

import evalkit

suite = evalkit.Suite(
    "lineage",
    dataset="data/written_by_gemma.jsonl",
    prompt="{{ question }}",
    system="Explain in one or two sentences.",
    gates=[
        evalkit.gates.JudgesTrusted(),
        evalkit.gates.WinRate(at_least=0.5, min_items=20),
    ],
)

test_item, test_gate = suite.tests()
