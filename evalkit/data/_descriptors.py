"""Per-text descriptors that tell text written by a model from text typed by a person.

Every descriptor is computed for a whole column at once (pandas string methods and one sparse
word-count matrix); none loops over rows in Python. Each one is a number per text: a share or
a count (``amount``), or 0/1 (``flag``), so that a sample's mean is the share of texts with the
trait. A ratio whose denominator is 0 (no letters, no words) is 0, never NaN.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import string
from collections.abc import Sequence
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from spellchecker import SpellChecker


@dataclasses.dataclass(frozen=True, slots=True)
class Descriptor:
    """One descriptor: its column name, whether it is a 0/1 flag, and how to say a difference.

    ``phrase`` completes "eval inputs ..." with ``{factor}`` and ``{more}`` (more / less),
    e.g. "are {factor} {more} likely to contain a misspelling".
    """

    name: str
    kind: Literal["flag", "amount"]
    phrase: str
    more: tuple[str, str] = ("more", "less")


DESCRIPTORS: Final = (
    Descriptor("chars", "amount", "are {factor} {more} in characters", ("longer", "shorter")),
    Descriptor("words", "amount", "are {factor} {more} in words", ("longer", "shorter")),
    Descriptor("lower_share", "amount", "have {factor} {more} of their letters in lower case"),
    Descriptor("punctuation", "amount", "use {factor} {more} punctuation per character"),
    Descriptor("terminal_punctuation", "flag", "are {factor} {more} likely to end with . ! or ?"),
    Descriptor("misspelling_rate", "amount", "have {factor} {more} misspelt words per word"),
    Descriptor("has_misspelling", "flag", "are {factor} {more} likely to contain a misspelling"),
    Descriptor("sentences", "amount", "have {factor} {more} sentences", ("more", "fewer")),
    Descriptor("several_requests", "flag", "are {factor} {more} likely to ask several things"),
    Descriptor("question", "flag", "are {factor} {more} likely to be phrased as a question"),
    Descriptor("chat_register", "flag", "are {factor} {more} likely to use chat words (u, pls)"),
    Descriptor("emoji", "flag", "are {factor} {more} likely to contain an emoji"),
    Descriptor("url", "flag", "are {factor} {more} likely to contain a URL"),
    Descriptor("code", "flag", "are {factor} {more} likely to contain code"),
    Descriptor("oov_rate", "amount", "have {factor} {more} words never seen in production"),
)
#: Descriptor names, in report order.
DESCRIPTOR_NAMES: Final = tuple(d.name for d in DESCRIPTORS)

#: Abbreviations and greetings of chat register; they are not counted as misspellings.
CHAT_WORDS: Final = frozenset(
    (
        "u",
        "ur",
        "r",
        "pls",
        "plz",
        "thx",
        "thnx",
        "ty",
        "idk",
        "imo",
        "imho",
        "btw",
        "asap",
        "lol",
        "omg",
        "im",
        "dont",
        "cant",
        "wont",
        "wanna",
        "gonna",
        "gotta",
        "hi",
        "hey",
        "ok",
        "k",
        "ya",
        "yeah",
        "pl",
        "tho",
        "cuz",
        "bc",
        "rn",
        "msg",
    )
)
_CHAT = r"(?i)\b(?:" + "|".join(sorted(CHAT_WORDS)) + r")\b"
_PUNCT = "[" + re.escape(string.punctuation) + "¡¿‘’“”…–—]"  # noqa: RUF001 - typographic marks
_UPPER = r"[A-ZÀ-ÖØ-Þ]"
_LETTER = r"[^\W\d_]"
_QUESTION_START = (
    r"(?i)^\s*(?:what|how|why|where|when|who|which|can|could|do|does|did|is|are|will|would|"
    r"should|may|shall|have|has)\b"
)
# "also" / "btw" / a second question mark are how people pack a second request into a message.
_SEVERAL = r"(?i)\b(?:also|btw|another thing|one more thing|and then)\b|\?[^?]+\?"
_EMOJI = "[\U0001f300-\U0001faff\u2600-\u27bf\U0001f1e6-\U0001f1ff]"
_URL = r"(?i)https?://|\bwww\.\w"
_CODE = r"```|`[^`\n]+`|\w+\([^()\n]*\)\s*[;{:]|[{};]\s*$|=>|</?[a-zA-Z]+[^<>]*>|\b(?:def|SELECT)\s"
# Words of two letters or more, no digits: what a dictionary can judge.
_ALPHA_TOKEN: Final = r"[^\W\d_]{2,}"

FloatArray = npt.NDArray[np.float64]


def _as_series(texts: Sequence[str] | pd.Series) -> pd.Series:
    return pd.Series(texts, dtype="string").fillna("").reset_index(drop=True)


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """``part / whole``, 0 where ``whole`` is 0 (a text with no letters has no lower case)."""
    return (part / whole.where(whole > 0, 1)).where(whole > 0, 0.0)


def surface_descriptors(texts: Sequence[str] | pd.Series) -> pd.DataFrame:
    """The descriptors that need no dictionary or vocabulary, one row per text, as floats."""
    s = _as_series(texts)
    stripped = s.str.strip()
    chars = s.str.len().astype("float64")
    letters = s.str.count(_LETTER).astype("float64")
    upper = s.str.count(_UPPER).astype("float64")
    ends = stripped.str.count(r"[.!?…]+(?=\s|$)")
    sentences = np.where(stripped.str.len() > 0, np.maximum(ends, 1), 0)
    frame = pd.DataFrame(
        {
            "chars": chars,
            "words": s.str.count(r"\S+").astype("float64"),
            "lower_share": _share(letters - upper, letters),
            "punctuation": _share(s.str.count(_PUNCT).astype("float64"), chars),
            "terminal_punctuation": stripped.str.contains(r"[.!?…][\"')\]]*$"),
            "sentences": sentences,
            "several_requests": s.str.contains(_SEVERAL),
            "question": s.str.contains(r"\?") | s.str.contains(_QUESTION_START),
            "chat_register": s.str.contains(_CHAT),
            "emoji": s.str.contains(_EMOJI),
            "url": s.str.contains(_URL),
            "code": s.str.contains(_CODE),
        }
    )
    return frame.astype("float64")


def _word_counts(texts: pd.Series) -> tuple[sparse.csr_matrix, npt.NDArray[np.str_]]:
    """A (texts x lower-cased words) count matrix and its vocabulary."""
    vectorizer = CountVectorizer(lowercase=True, token_pattern=r"(?u)\b\w+\b", dtype=np.int32)
    if not texts.str.contains(r"\w").any():
        return sparse.csr_matrix((len(texts), 0), dtype=np.int32), np.array([], dtype=str)
    counts = vectorizer.fit_transform(texts.to_numpy(dtype=object))
    return sparse.csr_matrix(counts), vectorizer.get_feature_names_out()


@functools.cache
def _dictionary() -> SpellChecker:
    # Loading the English word list takes a noticeable fraction of a second: do it once.
    return SpellChecker()


def _misspelt_columns(vocabulary: npt.NDArray[np.str_]) -> tuple[FloatArray, FloatArray]:
    """Which vocabulary words a dictionary can judge, and which of those it does not know."""
    words = pd.Series(vocabulary, dtype="string")
    judged = (words.str.fullmatch(_ALPHA_TOKEN) & ~words.isin(CHAT_WORDS)).to_numpy(dtype=bool)
    # One dictionary look-up per distinct word, not per occurrence.
    unknown = _dictionary().unknown(vocabulary[judged].tolist())
    misspelt = judged & np.isin(vocabulary, list(unknown))
    return judged.astype(np.float64), misspelt.astype(np.float64)


def descriptor_frames(
    eval_texts: Sequence[str] | pd.Series, prod_texts: Sequence[str] | pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every descriptor of :data:`DESCRIPTORS` for the eval texts and the production texts.

    ``oov_rate`` is the share of a text's distinct words that no production text uses; for a
    production text, no *other* production text (leave-one-out, so that production is not
    0 by construction).
    """
    eval_s, prod_s = _as_series(eval_texts), _as_series(prod_texts)
    n_eval = len(eval_s)
    both = pd.concat([eval_s, prod_s], ignore_index=True)
    surface = surface_descriptors(both)
    counts, vocabulary = _word_counts(both)
    judged, misspelt = _misspelt_columns(vocabulary)
    judged_tokens = np.asarray(counts @ judged, dtype=np.float64)
    misspelt_tokens = np.asarray(counts @ misspelt, dtype=np.float64)
    surface["misspelling_rate"] = np.where(
        judged_tokens > 0, misspelt_tokens / np.maximum(judged_tokens, 1), 0.0
    )
    surface["has_misspelling"] = (misspelt_tokens > 0).astype(np.float64)

    present = counts.copy()
    present.data = np.ones_like(present.data)
    prod_present = present[n_eval:]
    prod_df = np.asarray(prod_present.sum(axis=0)).ravel()
    types = np.asarray(present.sum(axis=1), dtype=np.float64).ravel()
    unseen_eval = np.asarray(present[:n_eval] @ (prod_df == 0).astype(np.float64)).ravel()
    # A production text's word is unseen elsewhere when this text is its only production user.
    unseen_prod = np.asarray(prod_present @ (prod_df == 1).astype(np.float64)).ravel()
    unseen = np.concatenate([unseen_eval, unseen_prod])
    surface["oov_rate"] = np.where(types > 0, unseen / np.maximum(types, 1), 0.0)
    frame = surface[list(DESCRIPTOR_NAMES)]
    return frame.iloc[:n_eval].reset_index(drop=True), frame.iloc[n_eval:].reset_index(drop=True)
