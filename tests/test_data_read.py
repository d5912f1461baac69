"""The data audit's file reader: chunk by chunk, and a seeded sample that is the same however read."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evalkit.data import _read
from evalkit.data._read import read_texts
from evalkit.data._sample import sample_positions, seeded_sample


def _values(n: int) -> list[object]:
    # Texts, with an empty one, a missing one and a number now and then.
    out: list[object] = []
    for i in range(n):
        out.append(
            "" if i % 11 == 0 else None if i % 13 == 0 else 42 if i % 17 == 0 else f"msg {i}"
        )
    return out


def _write(path: Path, values: list[object]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text(
            "".join(json.dumps({"id": i, "text": v}) + "\n" for i, v in enumerate(values))
        )
    elif path.suffix == ".csv":
        pd.DataFrame({"text": ["" if v is None else str(v) for v in values]}).to_csv(
            path, index=False
        )
    else:
        pd.DataFrame({"text": [None if v is None else str(v) for v in values]}).to_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_reading_in_chunks_gives_what_reading_at_once_gives(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / f"prod{suffix}", _values(200))
    whole = read_texts(path, "text")
    sampled = read_texts(path, "text", sample=30, seed=3)
    monkeypatch.setattr(_read, "_CHUNK", 7)
    assert read_texts(path, "text") == whole
    in_chunks = read_texts(path, "text", sample=30, seed=3)
    assert in_chunks == sampled
    # The sample read in two passes is the seeded sample of every text, in file order.
    assert in_chunks.texts == seeded_sample(whole.texts, 30, 3)
    assert (in_chunks.sampled_from, len(in_chunks.texts)) == (len(whole.texts), 30)
    assert whole.rows == 200
    assert whole.skipped_empty + whole.skipped_not_text + len(whole.texts) == 200


def test_a_sample_larger_than_the_file_is_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "prod.jsonl", [f"message {i}" for i in range(20)])
    monkeypatch.setattr(_read, "_CHUNK", 3)
    texts = read_texts(path, "text", sample=50, seed=1)
    assert texts.texts == [f"message {i}" for i in range(20)]
    assert texts.sampled_from is None


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_tags_are_read_beside_their_texts_whole_and_sampled(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = _values(120)
    tags = [None if i % 7 == 0 else f"kind{i % 3}" for i in range(len(values))]
    path = tmp_path / f"prod{suffix}"
    frame = pd.DataFrame({"text": values, "tag": tags})
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict("records")))
    else:
        frame["text"] = frame["text"].map(lambda v: None if v is None else str(v))
        getattr(frame, "to_csv" if suffix == ".csv" else "to_parquet")(path, index=False)
    whole = read_texts(path, "text", tags=True)
    assert whole.tags is not None
    assert len(whole.tags) == len(whole.texts)
    # Each text keeps its own row's tag; a row without one is counted as such.
    for text, tag in zip(whole.texts, whole.tags, strict=True):
        i = int(text.split()[-1]) if text.startswith("msg") else None
        if i is not None:
            assert tag == (_read.NO_TAG if i % 7 == 0 else f"kind{i % 3}")
    assert read_texts(path, "text").tags is None  # only when asked for
    monkeypatch.setattr(_read, "_CHUNK", 7)
    sampled = read_texts(path, "text", sample=25, seed=2, tags=True)
    assert sampled.sampled_from == len(whole.texts)
    # The sample's tags are the tags of the very rows sampled.
    positions = sample_positions(len(whole.texts), 25, 2)
    assert sampled.texts == [whole.texts[i] for i in positions]
    assert sampled.tags == [whole.tags[i] for i in positions]
