"""Simulated writers and judges: pure functions, no I/O, deterministic for a given seed.

A simulated *writer* answers a question with filler text that carries a hidden marker::

    ⟦sim family=huggingface quality=0.70 tokens=57⟧ Answer: …

``tokens`` is the number of whitespace-separated words of the whole answer, marker included,
so a judge (or a test) can read an answer's length from the marker alone.

A simulated *judge* reads the markers of the answers in its prompt, in order of appearance (the
first is position A), and decides by the model of :mod:`evalkit.testing._bias` (the same one
the table simulator uses), with the markers' quality difference, families and lengths. A
prompt with one marker gets a pointwise score ``1 + 9 · quality`` (plus ``3 · noise`` sd).
The draw comes from a RNG seeded by ``(seed, sha256(prompt))``: the same prompt always gets
the same verdict, and the swapped prompt is an independent draw.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import re
from typing import Final, Literal

from evalkit.probes._edits import CUES
from evalkit.testing._bias import JudgeParams, first_pick_probability, sigmoid, verdict_logit

Label = Literal["A", "B", "C"]

_MARKER_RE: Final = re.compile(
    r"⟦sim family=(?P<family>[\w.:-]+) quality=(?P<quality>[0-9.]+) tokens=(?P<tokens>\d+)⟧"
)
_WRITER_NAME_RE: Final = re.compile(r"sim-writer-(?P<family>[a-z0-9_.]+)-q(?P<quality>[0-9.]+)$")
_FILLER: Final = (
    "the", "answer", "follows", "from", "each", "step", "checked", "against", "facts", "and",
    "result", "is", "stated", "clearly", "with", "a", "short", "reason", "example", "where",
)  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class Marker:
    """What a simulated writer hides in its answer: who wrote it, how good and how long it is."""

    family: str
    quality: float
    tokens: int

    def render(self) -> str:
        """Return the marker as it appears in an answer."""
        return f"⟦sim family={self.family} quality={self.quality:.2f} tokens={self.tokens}⟧"


def parse_markers(text: str) -> list[Marker]:
    """Return every marker in ``text``, in order of appearance."""
    return [
        Marker(m["family"], float(m["quality"]), int(m["tokens"]))
        for m in _MARKER_RE.finditer(text)
    ]


@dataclasses.dataclass(frozen=True, slots=True)
class WriterParams:
    """A simulated answer writer.

    Each answer's length is drawn uniformly from ``[min_tokens, max_tokens]`` words and its
    quality from a normal around ``quality`` with sd ``quality_sd`` (clipped to [0, 1]), both
    seeded by the prompt, so the same question always gets the same answer.
    """

    family: str
    quality: float
    min_tokens: int = 30
    max_tokens: int = 120
    quality_sd: float = 0.0
    seed: int = 0

    @classmethod
    def from_model_name(cls, name: str) -> WriterParams | None:
        """Parse ``sim-writer-<family>-q<quality>`` (e.g. ``sim-writer-google-q0.70``).

        Returns None when ``name`` does not have that form.
        """
        match = _WRITER_NAME_RE.match(name)
        if match is None:
            return None
        try:
            quality = float(match["quality"])
        except ValueError:
            return None
        return cls(family=match["family"], quality=min(max(quality, 0.0), 1.0))


def write_answer(params: WriterParams, prompt: str) -> str:
    """Return the writer's answer to ``prompt``: marker first, then filler words."""
    rng = _rng(params.seed, prompt)
    quality = params.quality
    if params.quality_sd > 0:
        quality = min(max(rng.gauss(params.quality, params.quality_sd), 0.0), 1.0)
    length = rng.randint(params.min_tokens, max(params.min_tokens, params.max_tokens))
    # The marker itself is 4 whitespace-separated words; the filler makes up the rest.
    filler = [rng.choice(_FILLER) for _ in range(max(length - 4, 0))]
    marker = Marker(params.family, round(quality, 2), 4 + len(filler))
    return " ".join([marker.render(), *filler])


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """A simulated judge's decision: a pairwise label, a pointwise score, or neither.

    ``label`` and ``score`` are both None for a deliberate parse failure or a prompt without
    markers; ``p_first`` is the modelled P(pick A | decisive) (None for pointwise).
    """

    label: Label | None
    score: int | None
    p_first: float | None


def p_first(params: JudgeParams, a: Marker, b: Marker) -> float:
    """Return the probability that a decisive verdict picks ``a`` (shown first) over ``b``."""
    return first_pick_probability(params, _logit(params, a, b))


def _logit(params: JudgeParams, a: Marker, b: Marker) -> float:
    """The model's log-odds of ``a`` over ``b`` from their markers, position aside."""
    own = 0.0
    if params.self_family is not None:
        own = float((a.family == params.self_family) - (b.family == params.self_family))
    return verdict_logit(params, a.quality - b.quality, own, float(a.tokens - b.tokens))


def decide(params: JudgeParams, prompt: str, salt: str = "") -> Decision:
    """Decide a judge prompt: two or more markers → pairwise on the first two; one → a score.

    ``salt`` is mixed into the seed (the server passes the request's ``seed`` parameter), so
    deliberate repeats of one prompt can be made independent draws.
    """
    rng = _rng(params.seed, salt + prompt)
    markers = parse_markers(prompt)
    # Draw every random number up front, in a fixed order, so that changing one rate does not
    # reshuffle the other draws of the same prompt.
    u_parse, u_tie, u_noise, u_coin, u_pick = (rng.random() for _ in range(5))
    gauss = rng.gauss(0.0, 1.0)
    # Drawn after the others, so that adding the override left every earlier draw as it was.
    u_override = rng.random()
    u_cue = rng.random()  # last, for the same reason
    if not markers or u_parse < params.parse_failure_rate:
        return Decision(label=None, score=None, p_first=None)
    if len(markers) == 1:
        raw = 1 + 9 * markers[0].quality + 3 * params.noise * gauss
        return Decision(label=None, score=int(min(max(round(raw), 1), 10)), p_first=None)
    prob = p_first(params, markers[0], markers[1])
    for probe, rate in params.follows:
        cued = cued_label(params, probe, prompt)
        if cued is not None and u_cue < rate:
            return Decision(label=cued, score=None, p_first=prob)
    if u_override < params.override_probability:
        return Decision(label="A" if params.prefers_first else "B", score=None, p_first=prob)
    if u_tie < params.tie_rate:
        return Decision(label="C", score=None, p_first=prob)
    if u_noise < params.noise:
        return Decision(label="A" if u_coin < 0.5 else "B", score=None, p_first=prob)
    picks_a = sigmoid(_logit(params, markers[0], markers[1]))
    return Decision(label="A" if u_pick < picks_a else "B", score=None, p_first=prob)


def cued_label(params: JudgeParams, probe: str, prompt: str) -> Label | None:
    """The shown label of the answer probe ``probe``'s cue favours in ``prompt`` (None: no cue).

    A note names the label itself (bandwagon); an edit's cue ends the answer it favours, so
    it lies after that answer's marker and before the next one.
    """
    pattern = CUES[probe].replace("{family}", re.escape(params.family))
    found = re.search(pattern, prompt)
    if found is None:
        return None
    if "label" in found.groupdict():
        return "A" if found["label"] == "A" else "B"
    before = [m for m in _MARKER_RE.finditer(prompt) if m.start() < found.start()]
    if not before:
        return None
    return "A" if len(before) == 1 else "B"


#: The last line of the self-rewrite probe's template (evalkit/judges/rewrite.j2): a simulated
#: judge asked it paraphrases the answer instead of judging.
REWRITE_REQUEST: Final = "Reply with the rewritten answer only."


def rewrite_answer(params: JudgeParams, prompt: str) -> str:
    """A simulated judge's paraphrase: the answer's quality and length, in the judge's family.

    That is what a paraphrase by the judge's own model changes: whose style the answer is in.
    """
    markers = parse_markers(prompt)
    if not markers:
        return "There is no answer here to rewrite."
    m = markers[0]
    return f"{Marker(params.family, m.quality, m.tokens).render()} rewritten in my own words"


def judge_reply(decision: Decision) -> str:
    """Render a decision as a judge's reply, with the verdict as ``[[A]]``/``[[B]]``/``[[C]]``.

    A pointwise score is rendered as ``[[7]]``; a parse failure is a reply with no brackets.
    """
    if decision.label is not None:
        return f"Both answers were compared on accuracy and clarity.\nVerdict: [[{decision.label}]]"
    if decision.score is not None:
        return f"The answer was rated on accuracy and clarity.\nRating: [[{decision.score}]]"
    return "I am not able to compare these answers with confidence."


def _rng(seed: int, text: str) -> random.Random:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return random.Random(f"{seed}:{digest}")
