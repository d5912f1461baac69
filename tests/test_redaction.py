"""The credential rule (evalkit.redaction), used where errors and endpoints are recorded."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import Callable

import pytest

from evalkit.errors import AuthError, ClientError
from evalkit.models import ModelClient
from evalkit.redaction import (
    REDACTED,
    env_secrets,
    redact,
    redact_data,
    redact_texts,
    request_secrets,
)
from evalkit.testing import FakeProvider, Fault

# Keys of several providers' shapes, at lengths far below the real ones.
SHAPED = [
    "sk-Ab3dEf9h",  # OpenAI, 8 after the prefix
    "sk-ant-a1B2c3",  # Anthropic
    "sk-proj-9xY8wV7u",  # OpenAI project key
    "AIzaQw3rT5yU",  # Google
    "hf_Zx9Cv8Bn",  # Hugging Face
    "gsk_Lk7Jh6Gf",  # Groq
]


@pytest.mark.parametrize("key", SHAPED)
def test_short_keys_of_known_shapes_are_masked_by_pattern(key: str) -> None:
    out = redact(f"provider said: invalid key {key}, see docs")
    assert key not in out
    assert out == f"provider said: invalid key {REDACTED}, see docs"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPENAI_API_KEY", "k8Zq2Wx9"),  # 8 characters, no recognisable shape
        ("ANTHROPIC_API_KEY", "q1w2e3r4"),
        ("GEMINI_API_KEY", "Pl0kMn"),
        ("MY_PROXY_TOKEN", "t0k3n!x"),
        ("SOME_SERVICE_SECRET", "abcdef1"),
    ],
)
def test_an_environment_key_is_masked_by_its_value_whatever_its_length(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    text = f"401 from proxy: key {value} is not valid"
    assert redact(text) == text  # without the variable, nothing says it is a key
    monkeypatch.setenv(name, value)
    assert value in env_secrets()
    assert redact(text) == f"401 from proxy: key {REDACTED} is not valid"
    assert redact_texts([text, None]) == [redact(text), None]
    assert redact_data({"error": text}) == {"error": redact(text)}


def test_ordinary_variables_are_not_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_CONCURRENCY", "16")
    monkeypatch.setenv("HOME_PAGE", "example")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    secrets = env_secrets()
    assert "example" not in secrets
    assert "false" not in secrets


def test_the_credentials_a_call_carries() -> None:
    found = request_secrets(
        api_key="key-123456",
        api_base="http://alice:pw-0987654@proxy.example:8080/v1",
        headers={"Authorization": "Bearer hdr-abcdef", "x-custom-auth": "cust-5678"},
    )
    basic = base64.b64encode(b"alice:pw-0987654").decode()
    assert {"key-123456", "pw-0987654", "hdr-abcdef", "cust-5678", basic} <= found
    text = f"echo: x-custom-auth=cust-5678 basic {basic} pw-0987654 hdr-abcdef key-123456"
    out = redact(text, found)
    for secret in ("cust-5678", basic, "pw-0987654", "hdr-abcdef", "key-123456"):
        assert secret not in out
    assert out.startswith("echo: x-custom-auth=")


def test_a_url_user_part_is_masked_with_or_without_a_password() -> None:
    assert redact("http://user:KEY1@host/v1") == f"http://{REDACTED}@host/v1"
    assert redact("https://tok9-abc@host:8/v1 down") == f"https://{REDACTED}@host:8/v1 down"


def test_a_known_value_that_would_break_escaping_is_left_to_the_patterns() -> None:
    # Replacing a value with a quote in it could unbalance JSON or HTML around it.
    assert redact('say "a"b"c"', ['"a"b"c"']) == 'say "a"b"c"'


def test_header_values_in_recorded_config_are_masked_whole() -> None:
    data = {"params": {"extra_headers": {"x-custom-auth": "cust-5678"}, "max_tokens": 5}}
    assert redact_data(data) == {"params": {"extra_headers": REDACTED, "max_tokens": 5}}


def test_the_model_client_masks_what_a_provider_echoes(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    # The provider echoes every request header in its 401; the error the client raises (and
    # the session records) carries none of the call's credentials.
    fake_provider.script("echo", Fault.echo_headers(401))
    request = fake_provider.chat_request(
        "echo", api_key="short-k1", params={"extra_headers": {"x-custom-auth": "cust-5678"}}
    )
    with pytest.raises(AuthError) as caught:
        asyncio.run(make_client().complete(request))
    message = str(caught.value)
    echoed = str(caught.value.__cause__)  # litellm's exception, as the provider worded it
    for secret in ("cust-5678", "short-k1"):
        assert secret in echoed  # so the echo was real
        assert secret not in message, message
    assert "request headers were" in message
    assert fake_provider.base_url in message


def test_a_key_in_the_api_base_is_never_shown_and_the_call_not_retried(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    base = fake_provider.base_url.replace("http://", "http://bob:urlpw-31337@")
    request = fake_provider.chat_request("x", api_key="short-k1")
    with pytest.raises(ClientError) as caught:
        asyncio.run(make_client().complete(dataclasses.replace(request, api_base=base)))
    message = str(caught.value)
    assert "urlpw-31337" not in message
    assert f"http://{REDACTED}@127.0.0.1:{fake_provider.port}/v1" in message
    assert "remove them from api_base" in message
    assert "gave up" not in message
    assert fake_provider.requests() == 0
