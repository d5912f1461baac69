"""Does the eval set look like the users, and does the score survive how they really type?

The eight support questions in `data/support.jsonl` are written in the clean, complete style a
model writes eval data in. `data/support_production.jsonl` is a small sample of what customers
actually type (lower case, typos, several requests in one message, "u" and "pls"). Two gates ask
about the data before any score is trusted:

- `matches_production`: a text classifier trained to tell the suite's questions from the
  production messages; if it can (ROC AUC well above 0.5), the eval set does not look like the
  users, and the report shows what gives it away.
- `robustness`: every question is asked a second time in chat register ("hey how can i reset
  the password for my account pls"), answered and judged like any item, and the gate reports the
  paired drop in the candidate's win rate between the clean and the perturbed question.
"""

import evalkit

suite = evalkit.Suite(
    "support-realism",
    dataset="data/support.jsonl",
    prompt="{{ question }}",
    system="You are a customer support assistant. Answer in one or two sentences.",
    perturbations=["chat_register"],
    gates=[
        evalkit.gates.MatchesProduction("data/support_production.jsonl", max_auc=0.75),
        evalkit.gates.Robustness(max_drop=0.15, min_items=8),
    ],
)

test_item, test_gate = suite.tests()
