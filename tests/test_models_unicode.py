"""Any text a provider returns is stored, shown and judged: what cannot be encoded is replaced.

Some providers emit lone UTF-16 surrogates (a JSON ``"\\ud800"`` escape). Python keeps them in
a ``str``, but no file, database or page can hold them; the model layer replaces them with
U+FFFD where a completion is made, and says so (``text_repaired``).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_report_runs import write_run

from evalkit.models import Completion, ModelClient, ResponseCache
from evalkit.models._types import valid_text
from evalkit.records._answers import Answer
from evalkit.records._store import ANSWERS_FILE, JsonlAppender, iter_jsonl
from evalkit.report import load_run, render
from evalkit.report._redact import redact
from evalkit.testing import FakeProvider, ModelBehaviour

DATA_BLOCK = re.compile(r'<script type="application/json" id="item-data">(.*?)</script>', re.S)

# Characters that have broken text pipelines: lone and paired surrogates, NUL and other
# controls, the separators JSON allows raw but JavaScript and str.splitlines do not.
AWKWARD = ["\ud800", "\udfff", "\udc00", "\ud83d\ude00", "\x00", "\x1b", "\r", "\u2028",
           "\u2029", "\x85", "\ufeff", "\ufffe", "日本", "\U0010ffff"]  # fmt: skip
TEXTS = st.lists(st.one_of(st.characters(), st.sampled_from(AWKWARD)), min_size=1,
                 max_size=40).map("".join)


def test_valid_text_replaces_only_what_cannot_be_encoded() -> None:
    assert valid_text("plain \x00 \u2028 日本") == ("plain \x00 \u2028 日本", False)
    assert valid_text("a\ud800b") == ("a\ufffdb", True)
    assert valid_text("\udfff\ud800") == ("\ufffd\ufffd", True)
    assert valid_text("\ud83d\ude00") == ("\U0001f600", True)  # a pair is the character


def test_a_lone_surrogate_from_the_provider_is_replaced_cached_and_flagged(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.behave("odd", ModelBehaviour(reply="ok \ud800 end"))
    client = make_client(mode="use")
    request = fake_provider.chat_request("odd")
    first = asyncio.run(client.complete(request))
    assert (first.text, first.text_repaired) == ("ok \ufffd end", True)
    # Stored, so a rerun replays it instead of failing again on the same answer.
    second = asyncio.run(client.complete(request))
    assert (second.text, second.text_repaired, second.cached) == ("ok \ufffd end", True, True)
    assert fake_provider.requests("odd") == 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS)
def test_any_provider_text_survives_cache_results_and_report(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    folder = tmp_path_factory.mktemp("text")
    completion = Completion(text=text, input_tokens=1, output_tokens=2, cost_usd=0.0,
                            latency_s=0.1)  # fmt: skip
    shown = completion.text
    shown.encode("utf-8")  # valid from here on
    assert completion.text_repaired == (shown != text)

    cache = ResponseCache(folder / "cache", "use")
    stored = cache.put("key", completion, model="openai/x")
    hit = cache.get("key")
    cache.close()
    assert stored == bool(shown.strip())
    if stored:
        assert hit is not None
        assert (hit.text, hit.text_repaired) == (shown, completion.text_repaired)

    answer = Answer(run_id="r", suite="s", item_id="i", role="candidate", model="openai/x",
                    family="openai", prompt="q", text=shown, error=None, latency_s=0.1,
                    input_tokens=1, output_tokens=2, cost_usd=0.0, cached=False,
                    text_repaired=completion.text_repaired, status="ok")  # fmt: skip
    with JsonlAppender(folder / ANSWERS_FILE) as out:
        out.append(answer)
    (row,) = list(iter_jsonl(folder / ANSWERS_FILE))
    assert (row["text"], row["text_repaired"]) == (shown, completion.text_repaired)

    run = write_run(folder / "run", n_items=3, n_boot=5, texts={0: shown}, raw={0: shown})
    (blob,) = DATA_BLOCK.findall(render(load_run(run)))
    data = json.loads(blob)
    ids = data["items"]["id"]
    assert data["items"]["cand"][ids.index("item-00000")] == redact(shown)


def test_a_report_renders_a_repaired_run(tmp_path: Path) -> None:
    text, _ = valid_text("before \ud800 after")
    html = render(load_run(write_run(tmp_path / "run", n_items=3, n_boot=5, texts={0: text})))
    assert "before \ufffd after" in html
