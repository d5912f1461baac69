"""A leaderboard of prompt variants: which way of asking the bundled chat model answers best?

Three variants of SmolLM2-135M-Instruct, each its own candidate (``evalkit.variant``: the same
model with another system message or prompt), are each judged against the baseline (Gemma-3-270M
by default) by the panel, every pair in both orders. Each candidate has its own gates, and the
Bradley-Terry leaderboard ranks all of them on one scale with bootstrap intervals (the baseline at
1000). The judges are shown the dataset's question, not a variant's wording of it.

``round_robin=True`` would also judge every pair of variants against each other: three more pairs,
worth it with a real panel, left out here to keep ``pytest suites/`` short on two cores.
"""

import evalkit

CHAT = "local/smollm2-135m-instruct"

suite = evalkit.Suite(
    "prompt-variants",
    dataset="data/prompt_variants.jsonl",
    candidates=[
        evalkit.variant(CHAT, name="terse", system="Answer with the fact only, in a few words."),
        evalkit.variant(
            CHAT, name="explain", system="Answer correctly, then explain why in one sentence."
        ),
        evalkit.variant(CHAT, name="quiz", prompt="Quiz question: {{ question }}\nAnswer:"),
    ],
    gates=[evalkit.gates.WinRate(at_least=0.5, min_items=5)],
)

test_item, test_gate = suite.tests()
