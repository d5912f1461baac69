"""The item table's data: every item with its flags, answers and judge calls, as columns.

A run can hold 10,000 items judged 60,000 times, so the table is not rendered as HTML rows.
It travels as one JSON object of parallel arrays (``items.<column>[i]``, ``calls.<column>[k]``;
an item's calls are ``calls[first[i] : first[i] + n[i]]``), which the page's script turns into
table rows one page at a time. Columns are built with pandas from whole tables; the JSON is
escaped for a ``<script type="application/json">`` block by the template's ``tojson``.

Texts (prompts, answers, raw judge outputs, errors) are redacted and then cut to a common
length chosen so that all of them together stay within :data:`TEXT_BUDGET`, keeping each
text's start and end; each cut text carries where it was cut and how much was removed, and
the page says where the full text is. A run of a few hundred items is shown uncut.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from evalkit.records._answers import context_text
from evalkit.records._status import FAILED_STATUSES
from evalkit.records._store import ANSWERS_FILE, JUDGMENTS_FILE
from evalkit.report._redact import redact_texts

#: Bytes of text (UTF-8, estimated) the item table may embed: with the table's other columns,
#: a report stays under about 25 MB, which a browser opens in a second or two.
TEXT_BUDGET: Final = 20_000_000
#: Longest single text shown, whatever the budget: a longer one is almost always a runaway
#: generation, and its start says what went wrong.
MAX_TEXT_CHARS: Final = 100_000
_ITEM: Final = ["suite", "item_id"]
_CALL_KEYS: Final = ["suite", "item_id", "judge", "sample"]


@dataclasses.dataclass(frozen=True)
class ItemData:
    """The item table for the page (see the module docstring for ``data``'s layout)."""

    data: dict[str, Any]
    n_items: int
    n_calls: int
    n_first: int  # items listed first: judges disagree or a judge flipped
    text_cap: int | None  # the length texts were cut to, None when none was cut
    n_cut: int  # how many texts were cut
    tags: Sequence[str]


def plain(values: pd.Series) -> list[Any]:
    """A column as JSON-ready Python values: missing values (NaN, NA, None) become None."""
    return values.astype(object).where(values.notna(), None).tolist()


def text_cap(lengths: np.ndarray, weights: np.ndarray, budget: int) -> int | None:
    """The largest per-text length whose texts, all cut to it, fit in ``budget``.

    ``weights`` is bytes per character of each text. None when everything fits uncut.

    >>> text_cap(np.array([10, 50, 100]), np.ones(3), 1000) is None
    True
    >>> text_cap(np.array([10, 50, 100]), np.ones(3), 100)
    45
    """
    if float((lengths * weights).sum()) <= budget:
        return None
    low, high = 0, int(lengths.max())
    while low < high:  # binary search: the total grows with the cap
        mid = (low + high + 1) // 2
        if float((np.minimum(lengths, mid) * weights).sum()) <= budget:
            low = mid
        else:
            high = mid - 1
    return low


def shorten(text: str, cap: int) -> tuple[str, list[int]]:
    """Cut ``text`` to ``cap`` characters, keeping its start and its end.

    The end is kept because that is where a judge states its verdict. Returns the shortened
    text and ``[where the cut is, characters removed]``.

    >>> shorten("abcdefghijklmnopqrstuvwxyz", 8)
    ('abcdefyz', [6, 18])
    """
    tail = cap // 4
    head = cap - tail
    return text[:head] + (text[-tail:] if tail else ""), [head, len(text) - cap]


def _cut(
    columns: list[list[str | None]], budget: int
) -> tuple[list[list[str | None]], list[list[Any]], int | None, int]:
    """Redact every text of ``columns``, then cut them all to one length that fits ``budget``.

    Returns the texts; per text, 0 or ``[where the cut is, characters removed]``; the cap
    (None if no text was cut); and the number of texts cut.
    """
    # Redact before cutting: a cut could split a secret and leave a part nobody recognises.
    flat = redact_texts([t for column in columns for t in column])
    lengths = np.array([len(t) if t else 0 for t in flat], dtype=np.int64)
    # Non-ASCII characters take 2-4 bytes in UTF-8; count 3 rather than encode everything.
    weights = np.array([1 if not t or t.isascii() else 3 for t in flat], dtype=np.int64)
    cap = text_cap(lengths, weights, budget)
    cap = MAX_TEXT_CHARS if cap is None else min(cap, MAX_TEXT_CHARS)
    cuts: list[Any] = [0] * len(flat)
    for index in np.flatnonzero(lengths > cap).tolist():
        flat[index], cuts[index] = shorten(str(flat[index]), cap)
    out, cut, start = [], [], 0
    for column in columns:
        stop = start + len(column)
        out.append(flat[start:stop])
        cut.append(cuts[start:stop])
        start = stop
    n_cut = int((lengths > cap).sum())
    return out, cut, (cap if n_cut else None), n_cut


def _answers_wide(answers: pd.DataFrame) -> pd.DataFrame:
    """One row per item: prompt, both answers (or their errors), and tags."""
    columns = [*_ITEM, "prompt", "cand", "cand_error", "cand_context", "base", "base_error",
               "tags", "cand_conv", "base_conv"]  # fmt: skip
    if answers.empty:
        return pd.DataFrame(columns=columns)
    answers = answers.drop_duplicates([*_ITEM, "role"], keep="last")
    talks = answers["transcript"] if "transcript" in answers else pd.Series(None, answers.index)
    answers = answers.assign(
        conv=talks.map(conversation_text), context_text=_context_texts(answers)
    )
    wide = answers.pivot(
        index=_ITEM, columns="role", values=["text", "error", "prompt", "conv", "context_text"]
    )
    out = pd.DataFrame(index=wide.index)
    for role, short in (("candidate", "cand"), ("baseline", "base")):
        has = ("text", role) in wide.columns
        out[short] = wide[("text", role)] if has else None
        out[f"{short}_error"] = wide[("error", role)] if has else None
        out[f"{short}_conv"] = wide[("conv", role)] if has else None
    out["cand_context"] = (
        wide[("context_text", "candidate")] if ("text", "candidate") in wide else None
    )
    prompts = [wide[("prompt", r)] for r in ("candidate", "baseline") if ("prompt", r) in wide]
    out["prompt"] = prompts[0].fillna(prompts[1]) if len(prompts) == 2 else prompts[0]
    out["tags"] = answers.groupby(_ITEM)["tags"].first() if "tags" in answers else None
    return out.reset_index()


def conversation_text(transcript: Any) -> str | None:
    r"""A conversation item's transcript as the drill-down shows it; None for a single turn.

    >>> conversation_text([{"role": "user", "content": "Hi"},
    ...                    {"role": "assistant", "content": "Yo"}])
    'user: Hi\n\nassistant: Yo'
    """
    if not isinstance(transcript, list | tuple | np.ndarray):
        return None
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in transcript)


def _context_texts(answers: pd.DataFrame) -> pd.Series:
    """Per answer, what the app based it on, as judges saw it (None: no context given)."""

    def listed(value: Any) -> list[Any] | None:
        return list(value) if isinstance(value, list | tuple | np.ndarray) else None

    docs = answers["context"] if "context" in answers else pd.Series(None, index=answers.index)
    calls = answers["tool_calls"] if "tool_calls" in answers else docs.map(lambda _: None)
    texts = [context_text(listed(d), listed(c)) for d, c in zip(docs, calls, strict=True)]
    return pd.Series([t or None for t in texts], index=answers.index, dtype=object)


def _tag_lists(values: pd.Series) -> list[list[str]]:
    """Tags as lists of strings: a list, a comma-separated string, or nothing."""

    def one(value: Any) -> list[str]:
        if isinstance(value, str):
            return [t.strip() for t in value.split(",") if t.strip()]
        if isinstance(value, list | tuple | np.ndarray):
            return [str(t) for t in value]
        return []

    return [one(v) for v in values.tolist()]  # per item, not per call


def _flags(table: pd.DataFrame, combined: pd.DataFrame) -> pd.DataFrame:
    """Per item: judges that flipped, whether judges disagree, unusable and failed calls."""
    status = table["status"].astype("string")
    calls = pd.DataFrame(
        {
            "suite": table["suite"],
            "item_id": table["item_id"],
            "unparsed": (status == "unparseable").fillna(False).astype(int),
            "failed": status.isin(FAILED_STATUSES).astype(int),
            "len_diff": table["len_candidate"].astype("Float64")
            - table["len_baseline"].astype("Float64"),
        }
    )
    per_item = calls.groupby(_ITEM, sort=False).agg(
        unparsed=("unparsed", "sum"), failed=("failed", "sum"), len_diff=("len_diff", "first")
    )
    if combined.empty:
        per_item["flips"], per_item["disagree"] = 0, False
        return per_item
    judged = pd.DataFrame(
        {
            "suite": combined["suite"],
            "item_id": combined["item_id"],
            "flip": combined["consistent"].eq(False).fillna(False).astype(int),
            "verdict": combined["verdict"],
        }
    )
    agreement = judged.groupby(_ITEM, sort=False).agg(
        flips=("flip", "sum"), n_verdicts=("verdict", "nunique")
    )
    per_item = per_item.join(agreement)
    per_item["flips"] = per_item["flips"].fillna(0).astype(int)
    per_item["disagree"] = per_item["n_verdicts"].fillna(0) > 1
    return per_item.drop(columns="n_verdicts")


def _one_row_per_item(panel: pd.DataFrame) -> pd.DataFrame:
    """Scored suites have one panel row per (item, scored model): show them side by side."""
    if panel.empty or not panel.duplicated(_ITEM).any():
        return panel
    frame = panel.copy()
    score = frame["score"].astype(float) if "score" in frame else pd.Series(np.nan, frame.index)
    who = frame["candidate"].astype(str) if "candidate" in frame else pd.Series("", frame.index)
    shown = who.str.rsplit("/", n=1).str[-1] + ": " + score.map("{:.1f}".format)
    frame["verdict"] = shown.where(score.notna() & ~frame["abstained"].astype(bool), None)
    return (
        frame.groupby(_ITEM, sort=False)
        .agg(
            verdict=("verdict", lambda v: "; ".join(x for x in v if isinstance(x, str)) or None),
            abstained=("abstained", "all"),
            reason=("reason", "first"),
        )
        .reset_index()
    )


def item_data(
    judgments: pd.DataFrame,
    answers: pd.DataFrame,
    combined: pd.DataFrame,
    panel: pd.DataFrame,
    *,
    budget: int = TEXT_BUDGET,
) -> ItemData:
    """Build the item table: items needing a look first, then by suite and id.

    ``combined`` is :func:`evalkit.panel.combine_orders` of ``judgments``; ``panel`` has
    columns suite, item_id, verdict, abstained, reason (the audit's panel verdicts).
    """
    flags = _flags(judgments, combined)
    panel = _one_row_per_item(panel)
    wide = _answers_wide(answers).set_index(_ITEM)
    items = flags.join(wide, how="outer")
    items = items.join(panel.drop_duplicates(_ITEM).set_index(_ITEM)[["verdict", "reason"]])
    abstained = panel.set_index(_ITEM)["abstained"].reindex(items.index).eq(True)
    verdict = items["verdict"].astype(object).where(items["verdict"].notna(), None)
    items["panel"] = verdict.mask(abstained.to_numpy(), "abstained")
    items["flips"] = items["flips"].fillna(0).astype(int)
    items["disagree"] = items["disagree"].astype("boolean").fillna(False).astype(bool)
    items["first"] = items["disagree"] | (items["flips"] > 0)
    items = items.reset_index().sort_values(
        ["first", "disagree", "flips", "unparsed", "failed", "suite", "item_id"],
        ascending=[False, False, False, False, False, True, True],
        kind="stable",
    )
    rank = pd.Series(np.arange(len(items)), index=pd.MultiIndex.from_frame(items[_ITEM]))
    keys = pd.MultiIndex.from_frame(judgments[_ITEM])
    calls = judgments.assign(rank=rank.reindex(keys).to_numpy())
    calls = calls.sort_values(["rank", "judge", "sample", "order"], kind="stable")
    per_item = calls.groupby("rank", sort=True).size().reindex(np.arange(len(items)), fill_value=0)
    first = np.concatenate(([0], np.cumsum(per_item.to_numpy())[:-1])).astype(int).tolist()

    suites = sorted(items["suite"].astype(str).unique())
    judges = sorted(calls["judge"].astype(str).unique())
    texts = [plain(items[c].astype("string")) for c in ("prompt", "cand", "base")]
    texts += [plain(items[c].astype("string")) for c in ("cand_error", "base_error")]
    texts += [plain(calls[c].astype("string")) for c in ("raw_output", "error")]
    texts += [plain(items["cand_context"].astype("string"))]
    # Conversations only when the run has some, so that other reports keep their shape.
    talks = [plain(items[c].astype("string")) for c in ("cand_conv", "base_conv")]
    has_talks = any(t is not None for column in talks for t in column)
    texts, cut, cap, n_cut = _cut(texts + (talks if has_talks else []), budget)
    prompt, cand, base, cand_error, base_error, raw, error, context = texts[:8]
    tags = _tag_lists(items["tags"]) if "tags" in items else [[] for _ in range(len(items))]
    score = calls["score"].astype(float)
    data = {
        "suites": suites,
        "judges": judges,
        "files": {"answers": ANSWERS_FILE, "judgments": JUDGMENTS_FILE},
        "items": {
            "suite": pd.Categorical(items["suite"], categories=suites).codes.tolist(),
            "id": plain(items["item_id"]),
            "tags": tags,
            "panel": plain(items["panel"]),
            "reason": redact_texts(plain(items["reason"].astype("string"))),
            "disagree": items["disagree"].astype(int).tolist(),
            "flips": items["flips"].tolist(),
            "unparsed": items["unparsed"].fillna(0).astype(int).tolist(),
            "failed": items["failed"].fillna(0).astype(int).tolist(),
            "len_diff": plain(items["len_diff"]),
            "prompt": prompt, "prompt_cut": cut[0],
            "cand": cand, "cand_cut": cut[1],
            "base": base, "base_cut": cut[2],
            "cand_error": cand_error, "base_error": base_error,
            "context": context, "context_cut": cut[7],
            **({"cand_conv": texts[8], "cand_conv_cut": cut[8],
                "base_conv": texts[9], "base_conv_cut": cut[9]} if has_talks else {}),
            "first": first[: len(items)],
            "n": per_item.astype(int).tolist(),
        },
        "calls": {
            "judge": pd.Categorical(calls["judge"], categories=judges).codes.tolist(),
            "order": plain(calls["order"]),
            "sample": calls["sample"].astype(int).tolist(),
            "verdict": plain(calls["verdict"]),
            "score": plain(score.where(np.isfinite(score))),
            "raw": raw, "raw_cut": cut[5],
            "error": error,
        },
    }  # fmt: skip
    return ItemData(
        data=data,
        n_items=len(items),
        n_calls=len(calls),
        n_first=int(items["first"].sum()),
        text_cap=cap,
        n_cut=n_cut,
        tags=sorted({t for item_tags in tags for t in item_tags}),
    )
