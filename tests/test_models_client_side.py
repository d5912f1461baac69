"""Failures on evalkit's side of a call are named as such, and never retried.

litellm files a request that never left this machine (an invalid URL, a value the HTTP client
refuses) under "HTTP 500" or "connection error"; evalkit says what really happened.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Callable

import pytest

from evalkit.config import load_config
from evalkit.errors import ClientError, ConfigError, TransientModelError
from evalkit.models import ModelClient
from evalkit.models._litellm import LiteLLMTransport
from evalkit.testing import FakeProvider, Fault


@pytest.mark.parametrize(
    ("base", "says"),
    [
        ("127.0.0.1:{port}/v1", "invalid URL"),  # no scheme
        ("htp://127.0.0.1:{port}/v1", "invalid URL"),
        ("http://[::1/v1", "invalid URL"),
    ],
)
def test_a_malformed_api_base_is_a_client_error_tried_once(
    fake_provider: FakeProvider,
    make_client: Callable[..., ModelClient],
    litellm_loaded: None,
    base: str,
    says: str,
) -> None:
    request = dataclasses.replace(
        fake_provider.chat_request("x"), api_base=base.format(port=fake_provider.port)
    )
    with pytest.raises(ClientError) as caught:
        asyncio.run(make_client(retries=3).complete(request))
    message = str(caught.value)
    assert message.startswith("could not connect to ")
    assert says in message
    assert "HTTP 500" not in message
    assert "gave up" not in message  # one attempt: retrying cannot help


def test_an_infinite_timeout_is_refused_before_any_call(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    client = make_client(timeout_s=math.inf)
    with pytest.raises(ClientError, match=r"timeout of inf s; give a finite number"):
        asyncio.run(client.complete(fake_provider.chat_request("x")))
    assert fake_provider.requests() == 0
    assert client.budget.calls == 0


@pytest.mark.parametrize("value", ["inf", "Infinity", "nan"])
def test_an_infinite_timeout_setting_is_refused_naming_its_source(value: str) -> None:
    with pytest.raises(ConfigError, match=r"environment variable EVALKIT_TIMEOUT_S: .*finite"):
        load_config(environ={"EVALKIT_TIMEOUT_S": value})
    with pytest.raises(ConfigError, match=r"option --evalkit-timeout-s: .*finite"):
        load_config(cli={"timeout_s": value})


def test_a_reply_that_is_not_utf8_says_so(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient]
) -> None:
    fake_provider.script("x", Fault.invalid_bytes(), None)
    client = make_client(retries=0)
    with pytest.raises(TransientModelError) as caught:
        asyncio.run(client.complete(fake_provider.chat_request("x")))
    message = str(caught.value)
    assert "malformed response" in message
    assert "not valid UTF-8" in message
    assert "HTTP 500" not in message


def test_a_timeout_the_http_client_refuses_is_a_client_error_at_the_transport(
    fake_provider: FakeProvider, litellm_loaded: None
) -> None:
    # The client refuses it first (above); a transport given one directly must not blame the
    # provider either (it said "HTTP 500" and was retried).
    with pytest.raises(ClientError, match=r"could not send the request .*OverflowError") as caught:
        asyncio.run(LiteLLMTransport().attempt(fake_provider.chat_request("x"), math.inf))
    assert "HTTP 500" not in str(caught.value)
    assert fake_provider.requests() == 0
