"""Recorded answers: a support bot's replies, exported from its logs, judged without generation.

The answers are in data/support_answers.jsonl, one per question id of the dataset; nothing is
generated and no baseline is asked (a pointwise suite needs none). An id missing from the
file, one not in the dataset, or one answered twice stops the run before any call, naming
the file and the ids. One recorded reply is off-topic on purpose: the judges should say so.
"""

import evalkit

suite = evalkit.Suite(
    "support-recorded",
    dataset="data/support_questions.jsonl",
    mode="pointwise",
    candidate=evalkit.recorded(file="data/support_answers.jsonl", name="support-bot-logs"),
    gates=[evalkit.gates.MeanScore(at_least=5.0, min_items=6)],
)

test_item, test_gate = suite.tests()
