"""Which texts a run keeps for a later diversity comparison: a seeded, capped sample.

Light on purpose (numpy only): the session builds it for every suite, and a run that does not
measure diversity must not import scikit-learn for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from evalkit.data._sample import seeded_sample
from evalkit.records._texts import SuiteTexts, TextSample

#: Texts kept per set. compare_diversity measures both sets on subsets of half the smaller
#: one, so 500 texts give subsets of 250: enough to see a collapse, small enough to commit.
MAX_TEXTS: Final = 500
#: Characters kept per text: an app may answer with a megabyte; diversity is in the opening.
MAX_CHARS: Final = 2_000


def sample_texts(texts: Sequence[str], *, seed: int, max_texts: int, max_chars: int) -> TextSample:
    """Up to ``max_texts`` of ``texts`` (seeded, in order), each cut to ``max_chars``."""
    kept = seeded_sample([str(t) for t in texts], max_texts, seed)
    return TextSample(n=len(texts), texts=[t[:max_chars] for t in kept])


def keep_texts(
    inputs: Sequence[str],
    answers: Sequence[str],
    *,
    seed: int,
    max_texts: int = MAX_TEXTS,
    max_chars: int = MAX_CHARS,
) -> SuiteTexts:
    """The sample of a suite's inputs and answers that an accepted run stores.

    The gate measures the run under test on the same kind of sample (same cap, same cut), so
    the two sides differ only in what the texts say.
    """
    return SuiteTexts(
        seed=seed,
        max_texts=max_texts,
        max_chars=max_chars,
        inputs=sample_texts(inputs, seed=seed, max_texts=max_texts, max_chars=max_chars),
        answers=sample_texts(answers, seed=seed, max_texts=max_texts, max_chars=max_chars),
    )
