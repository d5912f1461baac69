"""The model layer's seams: the litellm transport, and litellm imported on the first real call only."""

import subprocess
import sys
from pathlib import Path

from evalkit.models._litellm import LiteLLMTransport
from evalkit.models._types import ModelTransport


def test_litellm_transport_satisfies_the_protocol() -> None:
    assert isinstance(LiteLLMTransport(), ModelTransport)


def test_importing_the_model_layer_and_a_cache_hit_never_import_litellm(tmp_path: Path) -> None:
    code = f"""
import asyncio, sys
from evalkit.models import Completion, ModelClient, ModelRequest, ResponseCache
from evalkit.models._cache import cache_key
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
