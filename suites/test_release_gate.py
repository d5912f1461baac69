"""A pairwise release gate: may the candidate replace the baseline?

Each question is answered by the candidate and by the baseline; every judge of the panel compares
the two answers in both orders (candidate first, then baseline first), and the panel's verdicts
give a win rate with a 95 % Wilson interval. The gate passes only if the whole interval clears
0.5: the candidate must be shown to be better, not merely look better on this sample.

With no flags this runs on the bundled local models: SmolLM2-135M-Instruct (Hugging Face) as the
candidate, Gemma-3-270M (Google) as the baseline, and a panel of both. Each judge therefore
shares a family with one of the two answers; the report shows that lineage warning and the
audit measures what it does to the verdicts.

Before the win rate is read, the judges are tested actively on a few items: two bias probes
(a "most people preferred answer B" note, content-free padding) edit the answer the panel did
not prefer, and a small qualification exam pairs each sampled row's `reference` with a copy
carrying one planted error (a changed number, a negation, a swapped name). The report's
"Bias probes" and "Qualification exam" sections show whether these tiny judges hold up; the
gate here is the win rate only (see test_lineage.py for a gate on the judges' trust).
"""

import evalkit

suite = evalkit.Suite(
    "general-knowledge",
    dataset="data/general_knowledge.jsonl",
    prompt="{{ question }}",
    gates=[evalkit.gates.WinRate(at_least=0.5, min_items=20)],
    probes=["bandwagon", "verbosity"],
    probe_items=4,
    exam=4,
)

test_item, test_gate = suite.tests()
