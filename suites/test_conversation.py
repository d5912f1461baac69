"""A two-turn conversation suite: each answer must follow from the model's own earlier answer.

Rows hold ``turns`` (MT-Bench style): the candidate and the baseline each answer turn 1, then
turn 2 with their *own* first answer in the conversation, one cached call per turn. A row may
instead hold ``messages``, a chat so far that ends with the user's turn (the last row). The
judges see each model's conversation before the final question, and compare the answers to that
final turn in both orders. ``judge_turns="each"`` would judge every turn as an item of its own
(``<id>#t1``, ``<id>#t2``).

With six items the win rate's interval is wide, so the gate is expected to be inconclusive:
this suite shows the machinery, not a release decision.
"""

import evalkit

suite = evalkit.Suite(
    "conversation",
    dataset="data/conversation.jsonl",
    system="Answer in one or two sentences.",
    judge_turns="final",
    gates=[evalkit.gates.WinRate(at_least=0.5, min_items=6)],
)

test_item, test_gate = suite.tests()
