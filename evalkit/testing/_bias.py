"""The one model of a biased judge, shared by the per-request judges and the table simulator.

A pairwise verdict is drawn in four steps; a later step overrides the earlier ones::

    1. pick the candidate (or answer A) with  P = sigmoid(verdict_logit)
           verdict_logit = quality_weight · quality
                         + verbosity · (len_candidate - len_baseline) / 100
                         + self_preference · ([fam_candidate = self] - [fam_baseline = self])
       where ``quality`` is the quality difference of the two answers; with probability
       ``noise`` the pick is a fair coin instead;
    2. with probability ``tie_rate``, a tie;
    3. with probability π, the answer shown first (the second one when position_bias < ½):
       the *override* model of position bias;
    4. with probability ``parse_failure_rate``, no verdict at all (an unreadable reply).

π is chosen so that, over both orders of every item, the share of decisive verdicts that pick
the first-shown answer is exactly ``position_bias``: that share is what the auditor measures,
so a judge made with ``position_bias=0.65`` is one the audit must find at 0.65. A strongly
position-biased judge therefore mostly picks the first answer, whatever its quality.

Everything here is a pure function of its arguments and works on floats and on numpy arrays
alike, so :func:`~evalkit.testing._sim.decide` (one request) and
:func:`~evalkit.testing._tables.simulate_judgments` (a whole table) use the same numbers.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

import numpy as np
import numpy.typing as npt

_Value = TypeVar("_Value", float, npt.NDArray[np.float64])


@dataclasses.dataclass(frozen=True, slots=True)
class JudgeParams:
    """The injected behaviour of a simulated judge (see the module docstring for the model).

    ``position_bias`` is the share of decisive verdicts that pick the first-shown answer, over
    both orders. ``score_sd`` and ``option_primacy`` shape pointwise scores in simulated tables
    (``option_primacy``: the probability that a score moves one step toward the option listed
    first). ``name`` names the judge in a simulated table; ``self_family`` is its family.
    """

    position_bias: float = 0.5
    self_family: str | None = None
    self_preference: float = 0.0
    verbosity: float = 0.0
    quality_weight: float = 4.0
    noise: float = 0.0
    tie_rate: float = 0.0
    parse_failure_rate: float = 0.0
    seed: int = 0
    name: str = "sim-judge"
    option_primacy: float = 0.0
    score_sd: float = 0.0
    #: bias probes' cues the judge follows, with the probability of following each:
    #: ``(("bandwagon", 0.7),)`` picks the answer a bandwagon note names 70 % of the time, before
    #: every other step (see :data:`evalkit.probes.CUES`).
    follows: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 < self.position_bias < 1.0:
            raise ValueError(f"position_bias must be in (0, 1), got {self.position_bias}")
        for name in ("noise", "tie_rate", "parse_failure_rate", "option_primacy"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        for probe, rate in self.follows:
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"follows[{probe!r}] must be in [0, 1], got {rate}")
        if self.score_sd < 0.0:
            raise ValueError(f"score_sd must be 0 or more, got {self.score_sd}")

    @property
    def family(self) -> str:
        """The judge's model family ("unknown" when it has none)."""
        return self.self_family if self.self_family is not None else "unknown"

    def follow_rate(self, probe: str) -> float:
        """How often the judge picks the answer probe ``probe``'s cue favours (0: never)."""
        return dict(self.follows).get(probe, 0.0)

    @property
    def prefers_first(self) -> bool:
        """Whether the position override picks the first-shown answer (else the second)."""
        return self.position_bias >= 0.5

    @property
    def override_probability(self) -> float:
        """π: how often the verdict is replaced by the favoured position (step 3).

        Solves (π + (1-π)d/2) / (π + (1-π)d) = r for π, with d = 1 - tie_rate the decisive
        share before the override and r = max(position_bias, 1 - position_bias).
        """
        r = max(self.position_bias, 1.0 - self.position_bias)
        decisive = 1.0 - self.tie_rate
        return decisive * (r - 0.5) / ((1.0 - r) + decisive * (r - 0.5))


# Named as the class it replaces, so that the audit tests' judges read as they did.
def SimJudge(
    name: str,
    family: str,
    first_position: float = 0.5,
    self_preference: float = 0.0,
    verbosity: float = 0.0,
    tie_rate: float = 0.1,
    fail_rate: float = 0.0,
    quality_weight: float = 1.0,
    noise: float = 0.7,
    option_primacy: float = 0.0,
) -> JudgeParams:
    """A judge for simulated tables, in the audit tests' vocabulary and defaults.

    ``first_position`` is ``position_bias``, ``fail_rate`` is ``parse_failure_rate`` and
    ``noise`` is the pointwise ``score_sd``; the defaults suit a latent quality drawn from a
    standard normal (``quality_weight`` 1, some ties, scores with sd 0.7).
    """
    return JudgeParams(
        name=name,
        self_family=family,
        position_bias=first_position,
        self_preference=self_preference,
        verbosity=verbosity,
        tie_rate=tie_rate,
        parse_failure_rate=fail_rate,
        quality_weight=quality_weight,
        score_sd=noise,
        option_primacy=option_primacy,
    )


def verdict_logit(params: JudgeParams, quality: _Value, own: _Value, length_diff: _Value) -> _Value:
    """Return the log-odds of step 1 (no position term): picking the candidate, or answer A.

    ``quality`` is the quality difference of the two answers, ``own`` is
    ``[first family = self] - [second family = self]`` and ``length_diff`` the difference in
    tokens, all oriented the same way (candidate minus baseline, or A minus B).
    """
    # Summed in this order so that tables stay bit-identical to those of earlier versions.
    return (
        params.quality_weight * quality
        + params.verbosity * (length_diff / 100.0)
        + params.self_preference * own
    )


def sigmoid(logit: _Value) -> _Value:
    """Return 1 / (1 + e^-logit), elementwise for arrays."""
    if isinstance(logit, np.ndarray):
        return 1.0 / (1.0 + np.exp(-logit))
    return float(1.0 / (1.0 + np.exp(-logit)))


def first_pick_probability(params: JudgeParams, logit: float) -> float:
    """Return P(the verdict picks answer A | the verdict is decisive), for A shown first.

    ``logit`` is :func:`verdict_logit` of A over B. Combines the four steps of the model.
    """
    quality_pick = params.noise * 0.5 + (1.0 - params.noise) * sigmoid(logit)
    pi = params.override_probability
    kept_decisive = (1.0 - pi) * (1.0 - params.tie_rate)
    forced = pi if params.prefers_first else 0.0
    if pi + kept_decisive == 0.0:  # a judge that only ever ties
        return 0.5
    return (forced + kept_decisive * quality_pick) / (pi + kept_decisive)
