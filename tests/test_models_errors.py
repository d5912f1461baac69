"""Bad inputs end in one clear evalkit error that says what to do, and never shows a key."""

import asyncio
import traceback
from collections.abc import Callable

import pytest

from evalkit.errors import AuthError, BadRequest, EvalkitError, ProviderUnavailable
from evalkit.models import ModelClient, ModelRequest
from evalkit.testing import FakeProvider, Fault, refused_base_url

SECRET = "sk-evalkit-SECRET-123"

pytestmark = pytest.mark.usefixtures("litellm_loaded")


def _rendered(error: BaseException) -> str:
    """Everything a user could see of an error: message, chained causes, full traceback."""
    return "".join(traceback.format_exception(error))


@pytest.mark.parametrize("model", ["gpt-nonsense-7", "no-such-provider/model-x"])
def test_unknown_model_string_names_the_expected_form(
    make_client: Callable[..., ModelClient], model: str
) -> None:
    request = ModelRequest(model=model, messages=({"role": "user", "content": "hi"},))
    with pytest.raises(BadRequest) as info:
        asyncio.run(make_client().complete(request))
    message = str(info.value)
    assert f"{model!r} is not a litellm model string" in message
    assert "provider/model" in message
    assert "api_base" in message


def test_missing_api_key_names_the_environment_variable(
    make_client: Callable[..., ModelClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    request = ModelRequest(
        model="anthropic/claude-3-5-haiku-20241022",
        messages=({"role": "user", "content": "hi"},),
    )
    with pytest.raises(AuthError, match=r"no API key for anthropic/claude-3-5-haiku-20241022"):
        asyncio.run(make_client().complete(request))
    with pytest.raises(AuthError, match=r"set the ANTHROPIC_API_KEY environment variable"):
        asyncio.run(make_client().complete(request))


def test_missing_openai_key_for_a_local_server_is_not_retried(
    fake_provider: FakeProvider,
    make_client: Callable[..., ModelClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(AuthError, match=r"OPENAI_API_KEY.*placeholder key") as info:
        asyncio.run(make_client().complete(fake_provider.chat_request("local", api_key=None)))
    assert "gave up" not in str(info.value)
    assert fake_provider.requests() == 0


def test_refused_connection_is_one_clear_error_after_retries(
    make_client: Callable[..., ModelClient],
) -> None:
    base = refused_base_url()
    request = ModelRequest(
        model="openai/local-judge",
        messages=({"role": "user", "content": "hi"},),
        api_base=base,
        api_key=SECRET,
    )
    with pytest.raises(ProviderUnavailable) as info:
        asyncio.run(make_client(retries=2, backoff_s=0.01).complete(request))
    message = str(info.value)
    assert f"could not connect to {base} for openai/local-judge: connection refused" in message
    assert "gave up after 3 attempts" in message
    assert SECRET not in _rendered(info.value)


@pytest.mark.parametrize("status", [400, 401, 404, 500])
def test_a_key_echoed_by_the_provider_is_masked(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient], status: int
) -> None:
    fake_provider.script("echoes", Fault.http_error(status, f"Incorrect API key: {SECRET}"))
    with pytest.raises(EvalkitError) as info:
        asyncio.run(
            make_client(retries=0).complete(fake_provider.chat_request("echoes", api_key=SECRET))
        )
    assert "Incorrect API key: [redacted]" in str(info.value)
    assert SECRET not in str(info.value)


def test_a_key_from_the_environment_is_masked_too(
    fake_provider: FakeProvider,
    make_client: Callable[..., ModelClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    fake_provider.script("echoes", Fault.http_error(401, f"bad key {SECRET}"))
    request = fake_provider.chat_request("echoes", api_key=None)
    with pytest.raises(AuthError) as info:
        asyncio.run(make_client().complete(request))
    assert str(info.value).count("[redacted]") == 1
    assert SECRET not in str(info.value)
    assert fake_provider.received()[0].headers["Authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize(
    "fault", [Fault.http_error(429), Fault.http_error(503), Fault.drop(), Fault.malformed()]
)
def test_no_error_or_traceback_contains_the_request_key(
    fake_provider: FakeProvider, make_client: Callable[..., ModelClient], fault: Fault
) -> None:
    fake_provider.script("faulty", fault)
    with pytest.raises(EvalkitError) as info:
        asyncio.run(
            make_client(retries=0).complete(fake_provider.chat_request("faulty", api_key=SECRET))
        )
    assert SECRET not in _rendered(info.value)
    assert "openai/faulty" in str(info.value)


def test_request_repr_hides_the_key() -> None:
    request = ModelRequest(model="openai/m", api_key=SECRET)
    assert SECRET not in repr(request)
