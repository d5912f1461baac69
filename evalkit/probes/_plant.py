"""Planted errors: a copy of a correct answer with exactly one factual error that stays fluent.

Three kinds, each a pure, seeded, deterministic function of the text (the same text and seed
give the same copy, in any process):

- :func:`plant_number` changes one number, keeping its format: one digit of the integer part
  moves by 1 or 2 (``12`` → ``14``, ``3.5`` → ``4.5``, ``1,500`` → ``1,700``), a year by a few
  years (``1969`` → ``1971``); list markers (``1.`` at a line's start) and digits inside words
  (``GPT-4``, ``H2O``) are left alone;
- :func:`plant_negation` negates one statement (``is`` → ``is not``, ``can`` → ``cannot``) or
  removes an existing negation (``is not`` → ``is``, ``doesn't`` → ``does``);
- :func:`plant_name` replaces one name, whole ("Leonardo da Vinci", "Second World War"), by
  another of the same kind, never of another: a bundled name (:data:`NAMES`: cities,
  countries, people, planets, elements, languages, ...) by one of its kind from the names the
  caller collected from the dataset's answers and references (:func:`name_pool`), else from
  the bundled list; another name only by a name of the dataset that fills the same slot (the
  same two words before it, or a whole reference). With no such name, no name is planted.

Each returns a :class:`Planted` (the copy and where it differs, for the report's highlight) or
None when the text offers nothing to plant — never a copy identical to the original.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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

#: Bundled names by kind. A name is swapped only for another name of its kind: a kind tells what
#: a name is (a city, a war), so the copy stays fluent and is wrong only in its fact. A name
#: belongs to one kind at most (a test pins that), and multi-word names are whole names.
NAMES: Final[dict[str, tuple[str, ...]]] = {
    "city": (
        "Paris", "London", "Berlin", "Madrid", "Rome", "Tokyo", "Beijing", "Moscow", "Cairo",
        "Ottawa", "Canberra", "Lisbon", "Vienna", "Athens", "Dublin", "Oslo", "Stockholm",
        "Warsaw", "Prague", "Budapest", "Delhi", "Seoul", "Bangkok", "Nairobi", "Lima",
        "New York", "Los Angeles", "Chicago", "Sydney", "Melbourne", "Toronto", "Amsterdam",
        "Brussels", "Copenhagen", "Helsinki", "Istanbul", "Mumbai", "Shanghai", "Hong Kong",
        "Buenos Aires", "Rio de Janeiro", "Mexico City", "Cape Town", "San Francisco",
    ),
    "country": (
        "France", "Germany", "Spain", "Italy", "Japan", "China", "Russia", "Egypt", "Canada",
        "Australia", "Portugal", "Austria", "Greece", "Ireland", "Norway", "Sweden", "Poland",
        "India", "Brazil", "Mexico", "Kenya", "Peru", "Argentina", "Chile", "Turkey", "Nepal",
        "United States", "United Kingdom", "New Zealand", "South Africa", "Netherlands",
        "Belgium", "Switzerland", "Thailand", "Vietnam", "Indonesia", "Nigeria", "Pakistan",
        "Iran", "Finland", "Denmark", "Iceland", "Morocco", "Ethiopia", "Colombia", "Ukraine",
        "South Korea",
    ),
    "person": (
        "Einstein", "Newton", "Darwin", "Curie", "Galileo", "Shakespeare", "Mozart",
        "Beethoven", "Napoleon", "Lincoln", "Washington", "Picasso", "Tesla", "Edison",
        "Pasteur", "Kepler", "Copernicus", "Aristotle", "Plato", "Dickens", "Michelangelo",
        "Albert Einstein", "Isaac Newton", "Charles Darwin", "Marie Curie", "William Shakespeare",
        "Wolfgang Amadeus Mozart", "Ludwig van Beethoven", "Abraham Lincoln", "George Washington",
        "Pablo Picasso", "Nikola Tesla", "Thomas Edison", "Louis Pasteur", "Johannes Kepler",
        "Charles Dickens", "Leonardo da Vinci", "Vincent van Gogh", "Jane Austen", "Leo Tolstoy",
        "Alan Turing", "Ada Lovelace", "Grace Hopper", "Guido van Rossum", "Linus Torvalds",
        "Tim Berners-Lee", "Dennis Ritchie",
    ),
    "planet": ("Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune"),
    "element": (
        "Hydrogen", "Helium", "Lithium", "Carbon", "Nitrogen", "Oxygen", "Sodium", "Calcium",
        "Potassium", "Iron", "Copper", "Zinc", "Silver", "Gold", "Uranium",
    ),
    "language": (
        "English", "French", "German", "Spanish", "Italian", "Portuguese", "Russian",
        "Japanese", "Chinese", "Mandarin", "Arabic", "Hindi", "Dutch", "Greek", "Latin",
        "Swedish", "Korean",
    ),
    "programming language": (
        "Python", "Java", "Ruby", "Perl", "Haskell", "Fortran", "Kotlin", "Scala", "Lisp",
    ),
    "continent": (
        "Africa", "Asia", "Europe", "Antarctica", "North America", "South America", "Oceania",
    ),
    "ocean": (
        "Pacific", "Atlantic", "Arctic", "Pacific Ocean", "Atlantic Ocean", "Indian Ocean",
        "Arctic Ocean", "Southern Ocean",
    ),
    "river": (
        "Amazon", "Nile", "Mississippi", "Yangtze", "Danube", "Thames", "Rhine", "Volga",
        "Ganges", "Seine", "Mekong",
    ),
    "mountain": (
        "Everest", "Kilimanjaro", "Matterhorn", "Denali", "Aconcagua", "Mount Everest",
        "Mount Kilimanjaro", "Mount Fuji", "Mont Blanc", "Mount Elbrus",
    ),
    "temperature scale": ("Celsius", "Fahrenheit"),
    "war": (
        "First World War", "Second World War", "Cold War", "Vietnam War", "Korean War",
        "Crimean War", "Gulf War",
    ),
}  # fmt: skip
_KINDS: Final = {name: kind for kind, names in NAMES.items() for name in names}
# Capitalised words that are not names, though they may stand mid-sentence, and openers that
# stand before a name at a sentence's start ("In Paris"): never part of a name.
_NOT_NAMES: Final = frozenset((
    "I", "A", "An", "The", "This", "That", "These", "Those", "It", "Its", "He", "She", "We",
    "They", "You", "Yes", "No", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday", "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December", "Mr", "Mrs", "Ms", "Dr",
    "In", "On", "At", "By", "From", "For", "To", "Of", "With", "After", "Before", "During",
    "Since", "Until", "And", "But", "Or", "So", "Then", "When", "While", "If", "Both", "Also",
    "Here", "There", "What", "Which", "Who", "Where", "Why", "How",
))  # fmt: skip
_WORD: Final = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
# A name is a run of capitalised words, with the particles that join the parts of one name
# ("Leonardo da Vinci", "Gulf of Mexico"): taken whole, so that a name is never split.
_PARTICLES: Final = ("da", "de", "del", "della", "der", "di", "du", "van", "von", "of")
_CAPITALISED: Final = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_NAME: Final = re.compile(
    rf"\b{_CAPITALISED}(?: (?:(?:{'|'.join(_PARTICLES)}) )*{_CAPITALISED})*\b"
)
_SENTENCE_START: Final = re.compile(r"(?:^|[.!?:;]\s+|\n\s*)$")
# The two lower-case words before a name, an article between skipped: "painted by", "capital
# of", "landed on (the)". Unknown names that follow the same two words fill the same slot.
_SLOT: Final = re.compile(r"\b([a-z]+) ([a-z]+) (?:(?:the|an?) )?$")
#: Each name of a dataset and its kinds (:func:`name_pool`); a name without one is never swapped.
NamePool = Mapping[str, frozenset[str]]
#: The slot of a name that is a whole text ("Zorblax."): the short reference of several items.
WHOLE: Final = "whole text"


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


def name_pool(texts: Iterable[str]) -> dict[str, frozenset[str]]:
    """The names of ``texts`` and their kinds, by name in sorted order: :func:`plant_name`'s pool.

    Collected from a dataset's answers and references, so that a name is swapped for another
    name of the same dataset and the same kind (a capital for another capital). A bundled name
    (:data:`NAMES`) has its bundled kind; another name has the slots it fills in ``texts``: the
    two lower-case words before it (``after 'written by'``), or :data:`WHOLE` when it is a
    whole text. A name that fills no slot has no kind and is left out: nothing is known to be
    like it.

    >>> name_pool(["Canberra.", "It was written by Zorblax.", "Zorblax left."])
    {'Canberra': frozenset({'city'}), 'Zorblax': frozenset({"after 'written by'"})}
    """
    kinds: dict[str, set[str]] = {}
    for text in texts:
        for start, end in _names(text):
            if known := _kinds_at(text, start, end):
                kinds.setdefault(text[start:end], set()).update(known)
    return {name: frozenset(kinds[name]) for name in sorted(kinds)}


def _names(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has names: whole runs of capitalised words (see :data:`_NAME`).

    A leading word that is never a name is not part of one ("The Mona Lisa", "In Paris"). At
    a sentence's start a capital says nothing, so there only a bundled name or a whole text
    counts: a run such as "Later Einstein" is no name at all rather than a guess at where the
    name begins.
    """
    found = []
    for match in _NAME.finditer(text):
        words = match.group(0).split(" ")
        lead = 0
        while lead < len(words) and (words[lead] in _NOT_NAMES or words[lead] in _PARTICLES):
            lead += 1
        if lead == len(words):
            continue
        start = match.start() + sum(len(w) + 1 for w in words[:lead])
        name = " ".join(words[lead:])
        end = start + len(name)
        if name in _KINDS or _whole(text, start, end) or not _SENTENCE_START.search(text[:start]):
            found.append((start, end))
    return found


def _whole(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is all of ``text`` (a full stop aside): "Zorblax."."""
    return not text[:start].strip() and text[end:].strip() in ("", ".", "!")


def _kinds_at(text: str, start: int, end: int) -> frozenset[str]:
    """The kinds of the name at ``text[start:end]``: its bundled kind, else the slot it fills."""
    name = text[start:end]
    if name in _KINDS:
        return frozenset((_KINDS[name],))
    if _whole(text, start, end):
        return frozenset((WHOLE,))
    slot = _SLOT.search(text[:start])
    return frozenset((f"after '{slot.group(1)} {slot.group(2)}'",)) if slot else frozenset()


def _replacements(name: str, kinds: frozenset[str], pool: NamePool, text: str) -> list[str]:
    """The names that may take ``name``'s place in ``text``, sorted.

    Of one of its ``kinds``: the pool's first, else the bundled ones; never one the text
    already holds, nor another form of ``name`` itself ("Einstein" for "Albert Einstein").
    """

    def fresh(other: str) -> bool:
        return not _within(other, name) and not _within(name, other) and not _occurs(other, text)

    mine = sorted(other for other, of in pool.items() if of & kinds and fresh(other))
    if mine or name not in _KINDS:
        return mine
    return sorted(other for other in NAMES[_KINDS[name]] if fresh(other))


def _within(part: str, whole: str) -> bool:
    """Whether the words of ``part`` stand together in ``whole`` ("Everest" in "Mount Everest")."""
    return f" {part} " in f" {whole} "


def _occurs(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def plant_name(text: str, *, seed: int = 0, names: NamePool | None = None) -> Planted | None:
    """Replace one name of ``text``, whole, by another name of the same kind.

    A bundled name (:data:`NAMES`) is replaced by a name of its kind from ``names`` (see
    :func:`name_pool`), else from the bundled list; another name only by a name of ``names``
    that fills the same slot (the same two words before it, or a whole text). The replacement
    never shares a word with the text. Returns None when no name has a replacement of its
    kind: a swap across kinds ("100 degrees Mona") would test whether a judge notices
    nonsense, not a wrong fact.
    """
    rng = _rng(text, seed, "name")
    pool = names or {}
    spans = _names(text)
    rng.shuffle(spans)
    for start, end in spans:
        name = text[start:end]
        options = _replacements(name, _kinds_at(text, start, end), pool, text)
        if options:
            return _edit("name", text, start, end, rng.choice(options))
    return None


#: Each kind of planted error and the function that plants it, by the exam's probe name.
Planter = Callable[[str, int, str, NamePool], "Planted | None"]
PLANTERS: Final[dict[str, Planter]] = {
    "number": lambda text, seed, question, names: plant_number(text, seed=seed, avoid=question),
    "negation": lambda text, seed, question, names: plant_negation(text, seed=seed),
    "name": lambda text, seed, question, names: plant_name(text, seed=seed, names=names),
}
