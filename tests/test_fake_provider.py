"""The fake provider and its simulated models: pure decision functions, then the HTTP server."""

import asyncio
import http.client
import json
import time
from pathlib import Path

import pytest
from _clocks import RecordedSleep

from evalkit.models import Completion, ModelClient, ResponseCache
from evalkit.testing import (
    FakeProvider,
    Fault,
    JudgeParams,
    Marker,
    ModelBehaviour,
    WriterParams,
    decide,
    p_first,
    parse_markers,
    simulate_judgments,
    write_answer,
)
from evalkit.testing._sim import judge_reply

EVEN = Marker("x", 0.5, 100)


def _pair_prompt(i: int, first: Marker, second: Marker) -> str:
    return f"Question {i}?\n[A] {first.render()} text\n[B] {second.render()} text\nWhich is better?"


def _share_first(params: JudgeParams, first: Marker, second: Marker, n: int = 2000) -> float:
    labels = [decide(params, _pair_prompt(i, first, second)).label for i in range(n)]
    return labels.count("A") / sum(label in ("A", "B") for label in labels)


# -- the pure simulation -------------------------------------------------------------------


def test_position_bias_is_the_first_pick_rate_at_equal_quality() -> None:
    assert _share_first(JudgeParams(position_bias=0.65, seed=1), EVEN, EVEN) == pytest.approx(
        0.65, abs=0.03
    )
    assert _share_first(JudgeParams(seed=1), EVEN, EVEN) == pytest.approx(0.5, abs=0.03)


def test_position_bias_is_the_first_pick_rate_whatever_the_quality() -> None:
    # The override model: the auditor measures the share of first picks over both orders, and
    # a judge made with position_bias=0.85 must show 0.85 even when one answer is far better.
    good, bad = Marker("x", 0.9, 100), Marker("x", 0.1, 100)
    params = JudgeParams(position_bias=0.85, tie_rate=0.1, seed=2)
    assert (p_first(params, good, bad) + p_first(params, bad, good)) / 2 == pytest.approx(0.85)
    both_orders = [decide(params, _pair_prompt(i, *pair)).label
                   for i in range(1500) for pair in ((good, bad), (bad, good))]  # fmt: skip
    decisive = [label for label in both_orders if label in ("A", "B")]
    assert decisive.count("A") / len(decisive) == pytest.approx(0.85, abs=0.03)


def test_a_request_judge_and_a_simulated_table_share_one_model() -> None:
    params = JudgeParams(name="j", self_family="x", position_bias=0.7, tie_rate=0.2,
                         quality_weight=1.0, seed=3)  # fmt: skip
    table = simulate_judgments([params], n_items=2000, seed=3)
    shown_first = table["order"].map({"AB": "candidate", "BA": "baseline"})
    decisive = table["verdict"].isin(["candidate", "baseline"])
    table_rate = (table["verdict"] == shown_first)[decisive].mean()
    labels = [decide(params, _pair_prompt(i, EVEN, Marker("x", 0.2, 300))).label
              for i in range(3000)]  # fmt: skip
    request_rate = labels.count("A") / sum(label in ("A", "B") for label in labels)
    ties = table["verdict"].eq("tie").mean(), labels.count("C") / len(labels)
    assert table_rate == pytest.approx(0.7, abs=0.03)
    # One order only here: the override adds to the quality pick, it does not replace it.
    expected = p_first(params, EVEN, Marker("x", 0.2, 300))
    assert request_rate == pytest.approx(expected, abs=0.03)
    pi = params.override_probability
    assert ties == (
        pytest.approx((1 - pi) * 0.2, abs=0.02),
        pytest.approx((1 - pi) * 0.2, abs=0.02),
    )


def test_quality_difference_drives_the_pick() -> None:
    good, bad = Marker("x", 0.8, 100), Marker("x", 0.4, 100)
    params = JudgeParams(quality_weight=4.0)
    assert p_first(params, good, bad) == pytest.approx(1 / (1 + pow(2.718281828, -1.6)), rel=1e-6)
    assert p_first(params, good, bad) + p_first(params, bad, good) == pytest.approx(1.0)
    assert _share_first(params, good, bad) == pytest.approx(p_first(params, good, bad), abs=0.03)


def test_self_preference_favours_the_judges_own_family() -> None:
    params = JudgeParams(self_family="google", self_preference=1.0)
    own, other = Marker("google", 0.5, 100), Marker("meta", 0.5, 100)
    assert p_first(params, own, other) == pytest.approx(1 / (1 + pow(2.718281828, -1.0)))
    assert p_first(params, other, own) == pytest.approx(1 - p_first(params, own, other))
    assert p_first(params, other, Marker("openai", 0.5, 100)) == pytest.approx(0.5)


def test_verbosity_is_log_odds_per_hundred_tokens() -> None:
    params = JudgeParams(verbosity=0.5)
    long, short = Marker("x", 0.5, 300), Marker("x", 0.5, 100)
    assert p_first(params, long, short) == pytest.approx(1 / (1 + pow(2.718281828, -1.0)))


def test_noise_ties_and_parse_failures_happen_at_their_rates() -> None:
    n = 3000
    noisy = JudgeParams(noise=1.0)
    assert _share_first(noisy, Marker("x", 0.9, 100), EVEN, n) == pytest.approx(0.5, abs=0.03)
    table = simulate_judgments([noisy], n_items=n // 2, quality_mean=2.0)
    assert (table["verdict"] == "candidate").mean() == pytest.approx(0.5, abs=0.03)
    params = JudgeParams(tie_rate=0.2, parse_failure_rate=0.1, seed=3)
    labels = [decide(params, _pair_prompt(i, EVEN, EVEN)).label for i in range(n)]
    assert labels.count(None) / n == pytest.approx(0.1, abs=0.02)
    assert labels.count("C") / n == pytest.approx(0.9 * 0.2, abs=0.02)


def test_decisions_are_deterministic_and_a_swap_is_an_independent_draw() -> None:
    params = JudgeParams(seed=5)
    a, b = Marker("x", 0.5, 100), Marker("y", 0.5, 100)
    prompts = [(_pair_prompt(i, a, b), _pair_prompt(i, b, a)) for i in range(3000)]
    ab = [decide(params, p).label for p, _ in prompts]
    assert ab == [decide(params, p).label for p, _ in prompts]
    ba = [decide(params, q).label for _, q in prompts]
    both_first = sum(x == "A" and y == "A" for x, y in zip(ab, ba, strict=True)) / len(ab)
    assert both_first == pytest.approx(0.25, abs=0.03)  # independent: 0.5 · 0.5
    assert [decide(JudgeParams(seed=6), p).label for p, _ in prompts] != ab


def test_a_salt_makes_repeats_of_one_prompt_independent() -> None:
    prompt = _pair_prompt(0, EVEN, EVEN)
    labels = {decide(JudgeParams(), prompt, salt=str(s)).label for s in range(50)}
    assert labels == {"A", "B"}


def test_one_marker_gets_a_pointwise_score_and_none_gets_no_verdict() -> None:
    assert decide(JudgeParams(), f"Rate: {Marker('x', 0.9, 10).render()}").score == 9
    assert decide(JudgeParams(), f"Rate: {Marker('x', 0.0, 10).render()}").score == 1
    nothing = decide(JudgeParams(), "no markers here")
    assert (nothing.label, nothing.score) == (None, None)


def test_judge_replies_carry_the_verdict_in_double_brackets() -> None:
    params = JudgeParams()
    assert judge_reply(decide(params, _pair_prompt(1, EVEN, EVEN))).endswith(("[[A]]", "[[B]]"))
    assert "[[" not in judge_reply(decide(JudgeParams(parse_failure_rate=1.0), "x"))


def test_writer_answers_carry_a_marker_that_states_their_length() -> None:
    params = WriterParams("huggingface", 0.7, min_tokens=20, max_tokens=60, seed=2)
    answers = [write_answer(params, f"question {i}") for i in range(50)]
    for answer in answers:
        [marker] = parse_markers(answer)
        assert (marker.family, marker.quality) == ("huggingface", 0.7)
        assert marker.tokens == len(answer.split())
        assert 20 <= marker.tokens <= 60
    assert answers == [write_answer(params, f"question {i}") for i in range(50)]
    assert len({parse_markers(a)[0].tokens for a in answers}) > 10


def test_writer_quality_can_vary_per_answer() -> None:
    params = WriterParams("meta", 0.5, quality_sd=0.2)
    qualities = [parse_markers(write_answer(params, str(i)))[0].quality for i in range(200)]
    assert 0.4 < sum(qualities) / len(qualities) < 0.6
    assert max(qualities) - min(qualities) > 0.4


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sim-writer-google-q0.70", WriterParams("google", 0.7)),
        ("sim-writer-huggingface-q1", WriterParams("huggingface", 1.0)),
        ("sim-writer-google", None),
        ("sim-judge-a", None),
        ("sim-writer-google-q0.7.1", None),
    ],
)
def test_writer_model_names(name: str, expected: WriterParams | None) -> None:
    assert WriterParams.from_model_name(name) == expected


def test_judge_params_are_validated() -> None:
    with pytest.raises(ValueError, match="position_bias"):
        JudgeParams(position_bias=1.0)
    with pytest.raises(ValueError, match="noise"):
        JudgeParams(noise=1.5)


# -- the HTTP server ----------------------------------------------------------------------


def _post(fake: FakeProvider, path: str, body: object) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_chat_and_text_endpoints_answer_in_openai_shape(fake_provider: FakeProvider) -> None:
    status, _, raw = _post(
        fake_provider,
        "/v1/chat/completions",
        {"model": "echo", "messages": [{"role": "user", "content": "hello there"}]},
    )
    data = json.loads(raw)
    assert status == 200
    assert data["object"] == "chat.completion"
    assert data["choices"][0]["message"] == {"role": "assistant", "content": "echo: hello there"}
    assert data["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    status, _, raw = _post(fake_provider, "/v1/completions", {"model": "echo", "prompt": "abc"})
    assert status == 200
    assert json.loads(raw)["choices"][0]["text"] == "echo: abc"


def test_models_endpoint_lists_known_models(fake_provider: FakeProvider) -> None:
    fake_provider.register_judge("sim-judge-a", JudgeParams())
    conn = http.client.HTTPConnection("127.0.0.1", fake_provider.port, timeout=10)
    conn.request("GET", "/v1/models")
    data = json.loads(conn.getresponse().read())
    conn.close()
    assert [m["id"] for m in data["data"]] == ["sim-judge-a"]


def test_scripted_faults_come_in_order_then_answers(fake_provider: FakeProvider) -> None:
    fake_provider.script(
        "m", Fault.rate_limited("2"), Fault.rate_limited("1.0"), Fault.http_error(503),
        Fault.malformed(), Fault.no_choices(), None,
    )  # fmt: skip
    body = {"model": "m", "prompt": "x"}
    statuses = []
    for _ in range(6):
        status, headers, _raw = _post(fake_provider, "/v1/completions", body)
        statuses.append((status, headers.get("Retry-After")))
    assert statuses == [(429, "2"), (429, "1.0"), (503, None), (200, None), (200, None),
                        (200, None)]  # fmt: skip
    assert fake_provider.requests("m") == 6


def test_http_date_retry_after_is_computed_when_sent() -> None:
    now = [1_700_000_000.0]  # Tue, 14 Nov 2023 22:13:20 GMT
    with FakeProvider(clock=lambda: now[0]) as fake:
        fake.script("m", Fault.rate_limited(date_in_s=30), Fault.rate_limited(date_in_s=30))
        _, first, _ = _post(fake, "/v1/completions", {"model": "m", "prompt": "x"})
        now[0] += 60  # the date is computed when each answer is sent, not when it was scripted
        _, second, _ = _post(fake, "/v1/completions", {"model": "m", "prompt": "x"})
    assert first["Retry-After"] == "Tue, 14 Nov 2023 22:13:50 GMT"
    assert second["Retry-After"] == "Tue, 14 Nov 2023 22:14:50 GMT"


def test_malformed_and_dropped_answers(fake_provider: FakeProvider) -> None:
    fake_provider.script("m", Fault.malformed(), Fault.drop())
    _, _, raw = _post(fake_provider, "/v1/completions", {"model": "m", "prompt": "x"})
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _post(fake_provider, "/v1/completions", {"model": "m", "prompt": "x"})


def test_random_faults_follow_the_fault_rate(fake_provider: FakeProvider) -> None:
    fake_provider.behave(
        "m", ModelBehaviour(faults=(Fault.http_error(500), Fault.http_error(503)), fault_rate=0.3)
    )
    statuses = [
        _post(fake_provider, "/v1/completions", {"model": "m", "prompt": "x"})[0]
        for _ in range(300)
    ]
    assert 0.2 < sum(s != 200 for s in statuses) / 300 < 0.4
    assert {500, 503, 200} == set(statuses)


def test_latency_counts_and_headers_are_observable() -> None:
    slept = RecordedSleep()
    with FakeProvider(sleep=slept) as fake_provider:
        fake_provider.behave("slow", ModelBehaviour(latency_s=(0.1, 0.15)))
        _post(fake_provider, "/v1/completions", {"model": "slow", "prompt": "x"})
        _post(fake_provider, "/v1/completions", {"model": "fast", "prompt": "x"})
        [slow, _] = fake_provider.received()
        fake_provider.reset()
        assert (fake_provider.requests(), fake_provider.received()) == (0, [])
    [latency] = slept.delays  # the slow model's only: no latency, no wait
    assert 0.1 <= latency <= 0.15
    assert (slow.path, slow.model, slow.body["prompt"]) == ("/v1/completions", "slow", "x")
    assert slow.headers["Content-Type"] == "application/json"


def test_a_simulated_judge_is_reached_through_litellm(
    fake_provider: FakeProvider, litellm_loaded: None, tmp_path: Path
) -> None:
    fake_provider.register_judge("sim-judge-biased", JudgeParams(position_bias=0.8, seed=4))
    client = ModelClient()
    writer_a = fake_provider.chat_request("sim-writer-google-q0.50", "Explain tides.")
    writer_b = fake_provider.chat_request("sim-writer-meta-q0.50", "Explain tides.")
    answers = asyncio.run(client.complete_many([writer_a, writer_b]))
    assert all(isinstance(a, Completion) for a in answers)
    first, second = (a.text for a in answers if isinstance(a, Completion))
    prompt = f"[A] {first}\n[B] {second}\nWhich answer is better? Reply [[A]] or [[B]]."
    reply = asyncio.run(client.complete(fake_provider.chat_request("sim-judge-biased", prompt)))
    expected = decide(JudgeParams(position_bias=0.8, seed=4), prompt)
    assert reply.text == judge_reply(expected)
    assert [m.family for m in parse_markers(prompt)] == ["google", "meta"]


def test_the_judge_seed_parameter_salts_the_draw(fake_provider: FakeProvider) -> None:
    prompt = _pair_prompt(0, EVEN, EVEN)
    labels = set()
    for seed in range(20):
        body = {"model": "sim-judge-x", "messages": [{"role": "user", "content": prompt}],
                "seed": seed}  # fmt: skip
        _, _, raw = _post(fake_provider, "/v1/chat/completions", body)
        labels.add(json.loads(raw)["choices"][0]["message"]["content"][-5:])
    assert labels == {"[[A]]", "[[B]]"}


def test_a_hang_ends_when_the_client_gives_up(fake_provider: FakeProvider) -> None:
    fake_provider.script("m", Fault.hang(60))
    conn = http.client.HTTPConnection("127.0.0.1", fake_provider.port, timeout=0.3)
    conn.request("POST", "/v1/completions", json.dumps({"model": "m", "prompt": "x"}))
    with pytest.raises(TimeoutError):
        conn.getresponse()
    assert fake_provider.in_flight("m") == 1
    conn.close()
    deadline = time.monotonic() + 2.0
    while fake_provider.in_flight("m") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake_provider.in_flight("m") == 0  # the abandoned hang no longer counts


def test_start_twice_is_refused_and_stop_is_idempotent() -> None:
    fake = FakeProvider().start()
    with pytest.raises(RuntimeError, match="already started"):
        fake.start()
    fake.stop()
    fake.stop()


def test_cache_files_and_model_client_are_independent_of_the_server(tmp_path: Path) -> None:
    # A cache hit is served without any server at all.
    from evalkit.models._cache import cache_key

    cache_dir = tmp_path
    with FakeProvider() as fake:
        request = fake.chat_request("echo", "cached question")
        asyncio.run(ModelClient(cache=ResponseCache(cache_dir, "use")).complete(request))
    hit = asyncio.run(ModelClient(cache=ResponseCache(cache_dir, "replay")).complete(request))
    assert hit.cached
    assert ResponseCache(cache_dir, "use").get(cache_key(request)) is not None
