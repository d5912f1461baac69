"""A scored suite: rubric judges that see a reference answer, beside deterministic graders.

Each answer is scored on a 1-10 scale by every judge of the panel, which is shown the dataset's
reference answer (mode "reference": with the default `local` panel this is its
`local-reference` variant). The same answers are also checked without any model: the last number
in the answer must equal the expected one. The two views land in one judgments table, so the
report shows where the judges and the exact check disagree; the gates ask for a mean judge
score of at least 5 and for 80 % of the candidate's answers to pass the numeric check.
"""

import evalkit
from evalkit.graders import Numeric

suite = evalkit.Suite(
    "arithmetic",
    dataset="data/arithmetic.jsonl",
    prompt="{{ question }}",
    system="Answer with the number first, then at most one short sentence.",
    mode="reference",
    graders=[Numeric(field="answer")],
    gates=[
        evalkit.gates.MeanScore(at_least=5.0, min_items=20),
        evalkit.gates.PassRate(at_least=0.8, min_items=20),
    ],
    answer_params={"temperature": 0.0, "max_tokens": 48},
)

test_item, test_gate = suite.tests()
