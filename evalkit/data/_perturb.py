"""Production-like variants of eval inputs: typos, lower case, chat register, merged requests.

A clean, well-spelt eval set scores higher than the messy input users type. A suite with
``perturbations=[...]`` asks every item again in each perturbed form (the item's id with
``~<perturbation>``), answers and judges the variants like any item, and the
:class:`~evalkit.gates.Robustness` gate reports the paired drop between each clean item and its
variants. Every variant is seeded by (seed, item id, perturbation), so a rerun asks the same
text and the response cache answers it.
"""

from __future__ import annotations

import dataclasses
import random
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from evalkit.errors import DatasetError, UsageError
from evalkit.records._conversation import Conversation
from evalkit.records._dataset import Item

#: The fields a variant adds to its item's fields (a dataset may not use these names).
PERTURBATION_FIELD: Final = "perturbation"
CLEAN_ID_FIELD: Final = "clean_id"
#: Joins an item's id and the perturbation in the variant's id.
ID_MARK: Final = "~"

#: Chat-register spellings: a word (lower case) and what people type instead.
_SHORT: Final = {
    "you": "u", "your": "ur", "are": "r", "please": "pls", "thanks": "thx", "thank you": "ty",
    "because": "bc", "tomorrow": "tmrw", "message": "msg", "people": "ppl", "really": "rly",
    "something": "smth", "with": "w/", "without": "w/o", "okay": "ok", "to be honest": "tbh",
    "as soon as possible": "asap", "information": "info", "about": "abt", "before": "b4",
}  # fmt: skip
_SHORT_RE: Final = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _SHORT), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_PUNCT: Final = re.compile(r"[^\w\s'/]")
_OPENERS: Final = ("hi ", "hey ", "hello ", "")
_CLOSERS: Final = (" thx", " pls", " ty", "")


def _typos(text: str, rng: random.Random, other: str) -> str:
    """About one word in eight of four or more letters gets a typo; at least one does."""
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if sum(c.isalpha() for c in w) >= 4]
    if not long_words:
        return text
    count = max(1, round(len(long_words) / 8))
    for i in rng.sample(long_words, min(count, len(long_words))):
        word = words[i]
        letters = [j for j, c in enumerate(word[:-1]) if c.isalpha() and word[j + 1].isalpha()]
        j = rng.choice(letters) if letters else 0
        kind = rng.randrange(3)
        if kind == 0:  # two neighbouring letters swapped
            word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        elif kind == 1:  # a letter dropped
            word = word[:j] + word[j + 1 :]
        else:  # a letter doubled
            word = word[: j + 1] + word[j] + word[j + 1 :]
        words[i] = word
    return " ".join(words)


def _lowercase(text: str, rng: random.Random, other: str) -> str:
    return text.lower()


def _no_punctuation(text: str, rng: random.Random, other: str) -> str:
    return re.sub(r"\s+", " ", _PUNCT.sub("", text)).strip()


def _abbreviations(text: str, rng: random.Random, other: str) -> str:
    return _SHORT_RE.sub(lambda m: _SHORT[m.group(0).lower()], text)


def _merged_intents(text: str, rng: random.Random, other: str) -> str:
    """Two requests in one message: this item's, then another item's, loosely joined."""
    second = other.strip()
    if not second:
        return text
    joiner = rng.choice((" also ", " and ", ". btw ", " + "))
    return text.rstrip().rstrip("?.!") + joiner + second[0].lower() + second[1:]


def _chat_register(text: str, rng: random.Random, other: str) -> str:
    """How a hurried user types it: short forms, lower case, no full stop, a greeting."""
    body = _abbreviations(text, rng, other).lower().rstrip().rstrip(".!")
    return (rng.choice(_OPENERS) + body + rng.choice(_CLOSERS)).strip()


Perturb = Callable[[str, random.Random, str], str]

#: The perturbations a suite may ask for, by name: ``fn(text, rng, another item's text)``.
PERTURBATIONS: Final[Mapping[str, Perturb]] = {
    "typos": _typos,
    "lowercase": _lowercase,
    "no_punctuation": _no_punctuation,
    "abbreviations": _abbreviations,
    "merged_intents": _merged_intents,
    "chat_register": _chat_register,
}


def check_perturbations(names: Sequence[str], *, where: str) -> None:
    """Raises UsageError naming ``where`` when a name is unknown or given twice."""
    if isinstance(names, str):
        raise UsageError(f"{where}: perturbations must be a list of names, e.g. [{names!r}]")
    for name in names:
        if name not in PERTURBATIONS:
            known = ", ".join(PERTURBATIONS)
            raise UsageError(f"{where}: unknown perturbation {name!r}; choose from {known}")
    if len(set(names)) != len(names):
        raise UsageError(f"{where}: a perturbation is listed twice in {list(names)}")


def perturb_text(text: str, name: str, *, seed: int, key: str, other: str = "") -> str:
    """``text`` perturbed by ``name``, the same for the same (seed, key, name)."""
    rng = random.Random(zlib.crc32(f"{seed}\x00{key}\x00{name}".encode()))
    return PERTURBATIONS[name](text, rng, other)


def with_variants(
    items: Sequence[Item], names: Sequence[str], fields: Sequence[str], *, seed: int, source: str
) -> tuple[Item, ...]:
    """The items, each followed by one variant per perturbation of its text ``fields``.

    A variant's id is ``<id>~<perturbation>``; its fields are the item's, with each of
    ``fields`` perturbed and :data:`PERTURBATION_FIELD` / :data:`CLEAN_ID_FIELD` added; a
    conversation item's user turns are perturbed instead (see :func:`_perturb_conversation`).
    For ``merged_intents`` the second request is the next item's text (cyclically).

    Raises:
        DatasetError: ``source`` already uses a reserved field name, or a variant's id is
            taken by another row.
    """
    if not names:
        return tuple(items)
    ids = {item.id for item in items}
    out: list[Item] = []
    for index, item in enumerate(items):
        reserved = [f for f in (PERTURBATION_FIELD, CLEAN_ID_FIELD) if f in item.fields]
        if reserved:
            raise DatasetError(
                f"{source}: item {item.id!r} has a field {reserved[0]!r}, which a suite with "
                "perturbations uses for its variants; rename that field"
            )
        out.append(item)
        following = items[(index + 1) % len(items)]
        for name in names:
            variant_id = f"{item.id}{ID_MARK}{name}"
            if variant_id in ids:
                raise DatasetError(
                    f"{source}: item id {variant_id!r} is also the id of the {name} variant of "
                    f"item {item.id!r}; rename that row"
                )
            changed = dict(item.fields)
            changed[PERTURBATION_FIELD], changed[CLEAN_ID_FIELD] = name, item.id
            if item.conversation is not None:
                # A conversation is asked instead of the prompt: its user turns are the input.
                talk = _perturb_conversation(
                    item.conversation, name, seed=seed, other=_question(following, item, fields)
                )
                out.append(
                    dataclasses.replace(item, id=variant_id, fields=changed, conversation=talk)
                )
                continue
            for field in fields:
                value = item.fields.get(field)
                if isinstance(value, str):
                    other = following.fields.get(field) if following is not item else ""
                    changed[field] = perturb_text(
                        value, name, seed=seed, key=f"{item.id}/{field}",
                        other=other if isinstance(other, str) else "",
                    )  # fmt: skip
            out.append(dataclasses.replace(item, id=variant_id, fields=changed))
    return tuple(out)


def _question(following: Item, item: Item, fields: Sequence[str]) -> str:
    """The next item's request, for ``merged_intents`` (empty when it is the item itself)."""
    if following is item:
        return ""
    if following.conversation is not None:
        return following.conversation.question
    texts = [following.fields.get(f) for f in fields]
    return next((t for t in texts if isinstance(t, str)), "")


def _perturb_conversation(talk: Conversation, name: str, *, seed: int, other: str) -> Conversation:
    """``talk`` with every user message perturbed by ``name``; system and assistant kept.

    Every user turn, not only the final one: one user types the whole conversation, and a
    chat whose last message alone is in chat register would be a user no one meets. Each
    turn is seeded by its position and text rather than the item id, so that the items of
    one conversation judged turn by turn (``<id>#t1``, ``<id>#t2``) ask the same variant of
    their shared turns. ``merged_intents`` joins ``other`` onto the final turn only: one
    second request per conversation, as for a single question.
    """

    def change(text: str, position: int, second: str = "") -> str:
        return perturb_text(text, name, seed=seed, key=f"turn{position}/{text}", other=second)

    prefix = tuple(
        {"role": m["role"], "content": change(m["content"], i)} if m["role"] == "user" else m
        for i, m in enumerate(talk.prefix)
    )
    start, last = len(talk.prefix), len(talk.turns) - 1
    turns = tuple(
        change(text, start + 2 * k, other if k == last else "") for k, text in enumerate(talk.turns)
    )
    return dataclasses.replace(talk, prefix=prefix, turns=turns)


def variant_of(item: Item) -> tuple[str, str] | None:
    """``(clean item id, perturbation)`` for a variant made by :func:`with_variants`, else None."""
    name = item.fields.get(PERTURBATION_FIELD)
    clean = item.fields.get(CLEAN_ID_FIELD)
    if isinstance(name, str) and isinstance(clean, str):
        return clean, name
    return None
