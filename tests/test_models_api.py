"""The public names of the model layer and of the testing package are pinned."""

import subprocess
import sys
from pathlib import Path

import evalkit.models
import evalkit.testing


def test_model_layer_public_names() -> None:
    assert sorted(evalkit.models.__all__) == sorted(
        [
            "UNKNOWN", "Budget", "Completion", "ConcurrencyLimits", "LiteLLMTransport",
            "LocalModel", "LocalModelServer", "ModelClient", "ModelRequest", "ModelTransport",
            "PromptStyle", "ResponseCache", "RetryPolicy", "Validator", "cache_key",
            "estimate_cost", "family_of",
            "is_local", "local_model", "local_models", "parse_retry_after", "retry_delay",
        ]
    )  # fmt: skip
    for name in evalkit.models.__all__:
        assert hasattr(evalkit.models, name), name


def test_testing_public_names() -> None:
    assert sorted(evalkit.testing.__all__) == sorted(
        [
            "Decision", "FakeProvider", "Fault", "FaultKind", "JudgeParams", "Label", "Marker",
            "ModelBehaviour", "ReceivedRequest", "WriterParams", "decide", "judge_reply",
            "p_first", "parse_markers", "refused_base_url", "write_answer",
        ]
    )  # fmt: skip
    for name in evalkit.testing.__all__:
        assert hasattr(evalkit.testing, name), name


def test_litellm_transport_satisfies_the_protocol() -> None:
    assert isinstance(evalkit.models.LiteLLMTransport(), evalkit.models.ModelTransport)


def test_importing_the_model_layer_and_a_cache_hit_never_import_litellm(tmp_path: Path) -> None:
    code = f"""
import asyncio, sys
from evalkit.models import Completion, ModelClient, ModelRequest, ResponseCache, cache_key
request = ModelRequest(model="openai/m", messages=({{"role": "user", "content": "hi"}},))
cache = ResponseCache({str(tmp_path)!r}, "use")
cache.put(cache_key(request), Completion("hello", 1, 1, 0.0, 0.1), model="openai/m")
client = ModelClient(cache=ResponseCache({str(tmp_path)!r}, "replay"))
assert asyncio.run(client.complete(request)).cached
assert "litellm" not in sys.modules, "litellm was imported"
"""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
