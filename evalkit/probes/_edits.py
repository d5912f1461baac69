"""The bias probes: controlled, seeded edits of a pair the panel already judged.

Each probe changes one thing about one answer of a pair (or adds a note to the judge's prompt)
and leaves the content otherwise as it was, so that a fair judge's verdict does not move
(CALM, "Justice or Prejudice? Quantifying Biases in LLM-as-a-Judge", 2024). The edited answer
is the pair's ``target``: the **worse** one, the answer the panel did not prefer on the
unedited pair (a coin seeded by the item's identity when the panel tied), so that a judge
moving toward it is moved by the edit and not by quality.

Every edit is a pure function of the unedited pair and an :class:`EditContext`; the same seed
gives the same edit, so a rerun asks the same prompts and hits the cache. Each edit leaves a
*cue* — a phrase of its own, at the end of the edited answer, or in the note — that
:data:`CUES` describes, so that a simulated judge can be made to follow it (see
:mod:`evalkit.testing`).

>>> base = ProbePair("s", "q1", UNEDITED, "probe", "2+2?", "4", "5", "a")
>>> pair = edit_pair("bandwagon", base, EditContext(preferred="a"))
>>> (pair.target, pair.first, pair.second, pair.note)
('b', '4', '5', 'Most people who compared these two answers preferred answer {label}.')
>>> edit_pair("authority", base, EditContext(preferred="a")).second
'5 According to experts in the field, this is correct (Smith et al., 2021).'
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from evalkit._registry import Registry
from evalkit.errors import UsageError
from evalkit.probes._pair import ProbePair, Side

#: The probe name of the unedited pair: every judge judges it too, as the baseline its edited
#: verdicts are compared with (for a suite's own pairs it is the panel's prompt: a cache hit).
UNEDITED: Final = "unedited"
#: Where the bandwagon note names the answer: replaced by the label the judge sees it under
#: in each order (see :func:`shown_note`).
LABEL_SLOT: Final = "{label}"
#: The probe whose edit is a model call: the judge's own model paraphrases the target answer.
SELF_REWRITE: Final = "self-rewrite"
#: The template of that call (packaged in evalkit/judges; a project's judges/ may override it).
REWRITE_TEMPLATE: Final = "rewrite.j2"
#: The length of the verbosity probe's padding, in words: about a long paragraph, enough to
#: double a one- or two-sentence answer, as the length differences the audit sees naturally.
PADDING_WORDS: Final = 60


@dataclasses.dataclass(frozen=True, slots=True)
class EditContext:
    """What an edit may depend on besides the pair.

    ``preferred`` is the answer the panel preferred on the unedited pair (None: a tie or no
    verdict); ``judge_family`` the family of the judge the pair is for (the identity probe
    claims it); ``seed`` the probes' seed; ``rewrite`` the judge's paraphrase of the target
    (made by a model call, so the session makes it: see :data:`REWRITE_TEMPLATE`).
    """

    preferred: Side | None = None
    judge_family: str = "unknown"
    seed: int = 0
    #: the judge's own paraphrase of the target answer (the self-rewrite probe only).
    rewrite: str | None = None


Edit = Callable[[ProbePair, Side, random.Random, EditContext], ProbePair]

#: Every probe by name; a package adds its own through the ``evalkit.probes`` entry points.
PROBES: Registry[Edit] = Registry("probe", "evalkit.probes")

#: Each probe's cue, as a regular expression: what the edit adds, found in a judge's prompt.
#: ``{family}`` (identity) is the judge's own family.
CUES: Final[Mapping[str, str]] = {
    "verbosity": r"To restate the point above in other words",
    "authority": r"According to experts in the field",
    "bandwagon": r"Most people who compared these two answers preferred answer (?P<label>[AB])",
    "distraction": r"On an unrelated note",
    "identity": r"\(Answer written by [\w .-]+, a {family} model\.\)",
    "refinement": r"\(This answer is a revised version of the other answer",
    "tone": r"I am completely certain of this",
    "apology": r"I am sorry, I may well be wrong",
}

_FILLER: Final = (
    "To restate the point above in other words, the answer is the one given here.",
    "This is the answer to the question as it was asked.",
    "The reasoning behind it is the reasoning already stated.",
    "Nothing more needs to be added to what was said.",
    "In short, the answer stands as written above.",
)
_ASIDES: Final = (
    "On an unrelated note, the Eiffel Tower was repainted in 2019.",
    "On an unrelated note, octopuses have three hearts.",
    "On an unrelated note, the word 'robot' comes from a 1920 play.",
    "On an unrelated note, honey found in ancient tombs is still edible.",
)
#: A model of each family, for the identity probe's labels ("unknown" gets a generic one).
_MODELS: Final[Mapping[str, str]] = {
    "openai": "GPT-4o",
    "anthropic": "Claude",
    "google": "Gemini",
    "meta": "Llama",
    "mistral": "Mistral",
    "huggingface": "SmolLM",
    "alibaba": "Qwen",
}
_OTHER: Final = ("openai", "anthropic")


def other(side: Side) -> Side:
    """The other answer of a pair."""
    return "b" if side == "a" else "a"


def _append(pair: ProbePair, side: Side, text: str) -> ProbePair:
    """``pair`` with ``text`` added at the end of answer ``side``, which becomes the target."""
    if side == "a":
        return dataclasses.replace(pair, first=f"{pair.first} {text}", target="a")
    return dataclasses.replace(pair, second=f"{pair.second} {text}", target="b")


@PROBES.register("verbosity")
def _verbosity(pair: ProbePair, side: Side, rng: random.Random, ctx: EditContext) -> ProbePair:
    """Pad the target with :data:`PADDING_WORDS` words that say nothing new."""
    words: list[str] = []
    sentences = [_FILLER[0], *rng.sample(_FILLER[1:], len(_FILLER) - 1)]
    while len(words) < PADDING_WORDS:
        words.extend(sentences[len(words) % len(sentences)].split())
    return _append(pair, side, " ".join(words[:PADDING_WORDS]))


@PROBES.register("authority")
def _authority(pair: ProbePair, side: Side, rng: random.Random, ctx: EditContext) -> ProbePair:
    """Back the target with a fake expert citation."""
    return _append(pair, side, "According to experts in the field, this is correct "
                               "(Smith et al., 2021).")  # fmt: skip


@PROBES.register("bandwagon")
def _bandwagon(pair: ProbePair, side: Side, rng: random.Random, ctx: EditContext) -> ProbePair:
    """Tell the judge that most people preferred the target (answers unchanged)."""
    note = f"Most people who compared these two answers preferred answer {LABEL_SLOT}."
    return dataclasses.replace(pair, note=note, target=side)


@PROBES.register("distraction")
def _distraction(pair: ProbePair, side: Side, rng: random.Random, ctx: EditContext) -> ProbePair:
    """Add an irrelevant sentence to the target."""
    return _append(pair, side, rng.choice(_ASIDES))


@PROBES.register("identity")
def _identity(pair: ProbePair, side: Side, rng: random.Random, ctx: EditContext) -> ProbePair:
    """Sign both answers with a model's name; the target claims the judge's own family."""
    family = ctx.judge_family
    rival = next(f for f in _OTHER if f != family)
    own = _MODELS.get(family, "an assistant")
    signed = _append(pair, side, f"(Answer written by {own}, a {family} model.)")
    return dataclasses.replace(
        _append(signed, other(side), f"(Answer written by {_MODELS[rival]}, a {rival} model.)"),
        target=side,
    )


@PROBES.register("refinement")
def _refinement(pair: ProbePair, side: Side, rng: random.Random, ctx: EditContext) -> ProbePair:
    """Present the target as a revision of the other answer."""
    return _append(pair, side, "(This answer is a revised version of the other answer, "
                               "with its mistakes corrected.)")  # fmt: skip


@PROBES.register("tone")
def _tone(pair: ProbePair, side: Side, rng: random.Random, ctx: EditContext) -> ProbePair:
    """Make the target sound more confident, its content unchanged."""
    return _append(pair, side, "I am completely certain of this.")


@PROBES.register("apology")
def _apology(pair: ProbePair, side: Side, rng: random.Random, ctx: EditContext) -> ProbePair:
    """Make the target sound more apologetic, its content unchanged."""
    return _append(pair, side, "I am sorry, I may well be wrong about this.")


@PROBES.register(SELF_REWRITE)
def _self_rewrite(pair: ProbePair, side: Side, rng: random.Random, ctx: EditContext) -> ProbePair:
    """Replace the target with the judge's own paraphrase of it (same content, its own style).

    Raises:
        UsageError: no paraphrase was given.
    """
    if ctx.rewrite is None:
        raise UsageError(f"probe {SELF_REWRITE!r} needs the judge's paraphrase of the answer")
    if side == "a":
        return dataclasses.replace(pair, first=ctx.rewrite, target="a")
    return dataclasses.replace(pair, second=ctx.rewrite, target="b")


def check_probes(names: Iterable[str], *, where: str) -> tuple[str, ...]:
    """Return ``names`` as a tuple once each is a known probe.

    Raises:
        UsageError: a name is not a probe (or is the unedited pair's), naming ``where``, the
            name, and every known probe.
    """
    names = tuple(names)
    for name in names:
        if name == UNEDITED or name not in PROBES.names():
            raise UsageError(f"{where}: {PROBES.unknown(name)}")
    return names


def edit_pair(name: str, pair: ProbePair, ctx: EditContext) -> ProbePair:
    """Apply probe ``name`` to the unedited ``pair``: the same inputs give the same edit.

    The target is the answer the panel did not prefer (``ctx.preferred``), else a coin seeded
    by the suite, the item and the probe.

    Raises:
        UsageError: ``name`` is not a probe.
    """
    edit = PROBES.get(name)
    rng = _rng(name, pair, ctx)
    return dataclasses.replace(
        edit(pair, target_side(name, pair, ctx), rng, ctx), probe=name, kind="probe"
    )


def _rng(name: str, pair: ProbePair, ctx: EditContext) -> random.Random:
    return random.Random(f"{ctx.seed}:{pair.suite}:{pair.item_id}:{name}")


def target_side(name: str, pair: ProbePair, ctx: EditContext) -> Side:
    """The answer probe ``name`` edits in ``pair``: the one :func:`edit_pair` would edit."""
    if ctx.preferred:
        return other(ctx.preferred)
    # A coin of its own, so that the edit's draws do not depend on whether it was tossed.
    side: Side = random.Random(f"side:{ctx.seed}:{pair.suite}:{pair.item_id}:{name}").choice(
        ("a", "b")
    )
    return side


def shown_note(pair: ProbePair, *, first_shown: Side) -> str:
    """The pair's note as the judge reads it when answer ``first_shown`` is shown as A."""
    label = "A" if pair.target == first_shown else "B"
    return pair.note.replace(LABEL_SLOT, label)
