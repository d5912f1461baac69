"""Planted errors: a copy of a correct answer with exactly one factual error that stays fluent.

Three kinds, each a pure, seeded, deterministic function of the text (the same text and seed
give the same copy, in any process):

- :func:`plant_number` changes one number, keeping its format: one digit of the integer part
  moves by 1 or 2 (``12`` → ``14``, ``3.5`` → ``4.5``, ``1,500`` → ``1,700``), a year by a few
  years (``1969`` → ``1971``); list markers (``1.`` at a line's start) and digits inside words
  (``GPT-4``, ``H2O``) are left alone;
- :func:`plant_negation` negates one statement (``is`` → ``is not``, ``can`` → ``cannot``) or
  removes an existing negation (``is not`` → ``is``, ``doesn't`` → ``does``);
- :func:`plant_name` replaces one capitalised name by another of the same kind: from the names
  the caller collected from the dataset's answers and references (:func:`name_pool`), else
  from a small bundled list of cities, countries and people.

Each returns a :class:`Planted` (the copy and where it differs, for the report's highlight) or
None when the text offers nothing to plant — never a copy identical to the original.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Final

#: A 4-digit whole number in this range reads as a year: it moves by a few years, not digits.
_YEARS: Final = range(1000, 2100)
_YEAR_SHIFTS: Final = (-3, -2, -1, 1, 2, 3)
_DIGIT_SHIFTS: Final = (1, 2, -1, -2)
# A number not glued to a word (GPT-4, H2O, 3rd), with optional thousands groups and decimals.
_NUMBER: Final = re.compile(r"(?<![\w.,-])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\w]|[.,]\d)")
_LIST_MARKER: Final = re.compile(r"^\s*$")

# Contractions and fused forms whose negation is removed by naming the positive form.
_NEGATED: Final = {
    "cannot": "can", "can't": "can", "isn't": "is", "aren't": "are", "wasn't": "was",
    "weren't": "were", "doesn't": "does", "don't": "do", "didn't": "did", "won't": "will",
    "shouldn't": "should", "couldn't": "could", "wouldn't": "would", "hasn't": "has",
    "haven't": "have", "mustn't": "must",
}  # fmt: skip
# Auxiliaries after which a separate "not" can be removed ("is not" → "is").
_AUX: Final = (
    "is", "are", "was", "were", "does", "do", "did", "will", "should", "could", "would",
    "must", "has", "have", "can",
)  # fmt: skip
# Auxiliaries that take an inserted negation fluently ("is" → "is not", "can" → "cannot").
_INSERT: Final = {
    "is": "is not", "are": "are not", "was": "was not", "were": "were not", "can": "cannot",
    "will": "will not", "should": "should not", "must": "must not", "could": "could not",
    "would": "would not", "does": "does not",
}  # fmt: skip
_REMOVE_NOT: Final = re.compile(r"\b(" + "|".join(_AUX) + r") not\b", re.IGNORECASE)
_CONTRACTED: Final = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in _NEGATED) + r")(?![\w'])", re.IGNORECASE
)
# Lower-case only: a capitalised "Is" opens a question, where "Is not it" would not be fluent.
_INSERTABLE: Final = re.compile(r"\b(" + "|".join(_INSERT) + r")\b(?! not\b)(?!n't)")

#: Bundled names by kind, used when the dataset offers no other name of the same kind.
NAMES: Final[dict[str, tuple[str, ...]]] = {
    "city": (
        "Paris", "London", "Berlin", "Madrid", "Rome", "Tokyo", "Beijing", "Moscow", "Cairo",
        "Ottawa", "Canberra", "Lisbon", "Vienna", "Athens", "Dublin", "Oslo", "Stockholm",
        "Warsaw", "Prague", "Budapest", "Delhi", "Seoul", "Bangkok", "Nairobi", "Lima",
    ),
    "country": (
        "France", "Germany", "Spain", "Italy", "Japan", "China", "Russia", "Egypt", "Canada",
        "Australia", "Portugal", "Austria", "Greece", "Ireland", "Norway", "Sweden", "Poland",
        "India", "Brazil", "Mexico", "Kenya", "Peru", "Argentina", "Chile", "Turkey",
    ),
    "person": (
        "Einstein", "Newton", "Darwin", "Curie", "Galileo", "Shakespeare", "Mozart",
        "Beethoven", "Napoleon", "Lincoln", "Washington", "Picasso", "Tesla", "Edison",
        "Pasteur", "Kepler", "Copernicus", "Aristotle", "Plato", "Dickens",
    ),
}  # fmt: skip
# Capitalised words that are not names, though they may stand mid-sentence.
_NOT_NAMES: Final = frozenset((
    "I", "A", "An", "The", "This", "That", "These", "Those", "It", "Its", "He", "She", "We",
    "They", "You", "Yes", "No", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday", "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December", "Mr", "Mrs", "Ms", "Dr",
))  # fmt: skip
_WORD: Final = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
_SENTENCE_START: Final = re.compile(r"(?:^|[.!?:;]\s+|\n\s*)$")


@dataclasses.dataclass(frozen=True, slots=True)
class Planted:
    """A copy of a text with one planted error.

    ``text[start:end]`` (in the original) became ``replacement``; ``kind`` is ``number``,
    ``negation`` or ``name``. The copy always differs from the original.
    """

    kind: str
    original: str
    text: str
    start: int
    end: int
    replacement: str

    @property
    def removed(self) -> str:
        """The span of the original that was replaced."""
        return self.original[self.start : self.end]


def _rng(text: str, seed: int, kind: str) -> random.Random:
    # hashlib, not hash(): the choice must not change with PYTHONHASHSEED between runs.
    digest = hashlib.sha256(f"{seed}\0{kind}\0{text}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _edit(kind: str, text: str, start: int, end: int, new: str) -> Planted | None:
    if text[start:end] == new:
        return None
    return Planted(kind, text, text[:start] + new + text[end:], start, end, new)


def _is_list_marker(text: str, match: re.Match[str]) -> bool:
    """``1.`` or ``2)`` opening a line: an enumeration, not a fact."""
    line_start = text.rfind("\n", 0, match.start()) + 1
    follows = text[match.end() : match.end() + 1]
    return bool(_LIST_MARKER.match(text[line_start : match.start()])) and follows in (".", ")")


def _shift_digit(digits: str, rng: random.Random) -> str | None:
    """Move the last non-zero digit of a whole number by 1 or 2, keeping its length."""
    plain = digits.replace(",", "")
    nonzero = [i for i, d in enumerate(plain) if d != "0"]
    i = nonzero[-1] if nonzero else len(plain) - 1
    d = int(plain[i])
    # A leading digit may not become 0: "3" → "0" would be fine, "30" → "00" would not.
    leading = i == 0 and len(plain) > 1
    options = [d + s for s in _DIGIT_SHIFTS if 0 <= d + s <= 9 and not (leading and d + s == 0)]
    if not options:
        return None
    changed = plain[:i] + str(rng.choice(options)) + plain[i + 1 :]
    return f"{int(changed):,}" if "," in digits else changed


def _new_number(whole: str, fraction: str, rng: random.Random) -> str | None:
    if not fraction and "," not in whole and int(whole) in _YEARS and len(whole) == 4:
        return str(int(whole) + rng.choice(_YEAR_SHIFTS))
    if int(whole.replace(",", "")) == 0 and fraction:
        # 0.5 → 0.7: the integer part says nothing, the first decimal digits do.
        changed = _shift_digit(fraction[1:], rng)
        return None if changed is None else f"{whole}.{changed}"
    changed = _shift_digit(whole, rng)
    return None if changed is None else changed + fraction


def plant_number(text: str, *, seed: int = 0, avoid: str = "") -> Planted | None:
    """Change one number of ``text``, keeping its format (see the module docstring).

    Numbers that also appear in ``avoid`` (the question: "12 + 7" restated in the answer) are
    left alone while another number is there to change. Returns None when no number can be
    changed.
    """
    found = [m for m in _NUMBER.finditer(text) if not _is_list_marker(text, m)]
    avoided = set(_numbers(avoid))
    fresh = [m for m in found if m.group(0) not in avoided]
    rng = _rng(text, seed, "number")
    for match in _shuffled(fresh or found, rng):
        new = _new_number(match.group(1), match.group(2) or "", rng)
        if new is not None:
            return _edit("number", text, match.start(), match.end(), new)
    return None


def _numbers(text: str) -> list[str]:
    return [m.group(0) for m in _NUMBER.finditer(text)]


def _shuffled(matches: Sequence[re.Match[str]], rng: random.Random) -> list[re.Match[str]]:
    order = list(matches)
    rng.shuffle(order)
    return order


def _same_case(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def plant_negation(text: str, *, seed: int = 0) -> Planted | None:
    """Negate one statement of ``text``, or remove one existing negation.

    Sites: an auxiliary followed by ``not`` (``is not`` → ``is``), a negative contraction
    (``cannot``, ``doesn't`` → ``can``, ``does``), or a lower-case auxiliary that takes a
    ``not`` (``is`` → ``is not``, ``can`` → ``cannot``). One site, chosen by ``seed``. Returns
    None when there is none.
    """
    sites: list[tuple[int, int, str]] = []
    for m in _REMOVE_NOT.finditer(text):
        sites.append((m.start(), m.end(), m.group(1)))
    for m in _CONTRACTED.finditer(text):
        sites.append((m.start(), m.end(), _same_case(_NEGATED[m.group(1).lower()], m.group(1))))
    taken = [(s, e) for s, e, _ in sites]
    for m in _INSERTABLE.finditer(text):
        if not any(s <= m.start() < e for s, e in taken):
            sites.append((m.start(), m.end(), _INSERT[m.group(1)]))
    if not sites:
        return None
    start, end, new = _rng(text, seed, "negation").choice(sorted(sites))
    return _edit("negation", text, start, end, new)


def name_pool(texts: Iterable[str]) -> tuple[str, ...]:
    """The capitalised names standing mid-sentence in ``texts``, sorted: :func:`plant_name`'s pool.

    Collected from a dataset's answers and references, so that a name is swapped for another
    of the same dataset (a capital for another capital).
    """
    return tuple(sorted({m.group(0) for t in texts for m in _names(t)}))


def _names(text: str) -> list[re.Match[str]]:
    """Capitalised words that read as names: not opening a sentence, not in the stop list."""
    bundled = {n for names in NAMES.values() for n in names}
    return [
        m
        for m in _WORD.finditer(text)
        if m.group(0) not in _NOT_NAMES
        and (m.group(0) in bundled or not _SENTENCE_START.search(text[: m.start()]))
    ]


def _kind_of(name: str) -> str | None:
    return next((kind for kind, names in NAMES.items() if name in names), None)


def plant_name(text: str, *, seed: int = 0, names: Sequence[str] = ()) -> Planted | None:
    """Replace one capitalised name of ``text`` by another name.

    The replacement comes from ``names`` (see :func:`name_pool`) when the name is one of them
    and another fits, else from the bundled list of its kind (:data:`NAMES`); it is never of
    another bundled kind (a city for a country) and never already occurs in the text. Returns
    None when no name has a replacement.
    """
    rng = _rng(text, seed, "name")
    present = {m.group(0) for m in _WORD.finditer(text)}
    for match in _shuffled(_names(text), rng):
        name = match.group(0)
        kind = _kind_of(name)
        # A known city is swapped for a city, never for a country of the same dataset.
        options = sorted(n for n in set(names) - present if _kind_of(n) in (kind, None))
        if name not in names or not options:
            options = sorted(set(NAMES.get(kind, ()) if kind else ()) - present)
        if options:
            return _edit("name", text, match.start(), match.end(), rng.choice(options))
    return None


#: Each kind of planted error and the function that plants it, by the exam's probe name.
Planter = Callable[[str, int, str, Sequence[str]], "Planted | None"]
PLANTERS: Final[dict[str, Planter]] = {
    "number": lambda text, seed, question, names: plant_number(text, seed=seed, avoid=question),
    "negation": lambda text, seed, question, names: plant_negation(text, seed=seed),
    "name": lambda text, seed, question, names: plant_name(text, seed=seed, names=names),
}
