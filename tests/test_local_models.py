"""The bundled models, served by a real llama.cpp server that evalkit starts and stops."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from evalkit.errors import ConfigError
from evalkit.models._local import LocalModelServer, local_model

pytestmark = [pytest.mark.local_models, pytest.mark.slow]


def test_unknown_local_model_names_the_bundled_ones() -> None:
    with pytest.raises(
        ConfigError,
        match=r"unknown local model 'local/llama'; the bundled ones are: "
        r"local/smollm2-135m-instruct, local/gemma-3-270m",
    ):
        local_model("local/llama")


def test_server_starts_answers_and_stops(tmp_path: Path) -> None:
    with LocalModelServer(tmp_path) as server:
        smol = server.endpoint("local/smollm2-135m-instruct")
        gemma = server.endpoint("local/gemma-3-270m")
        assert smol.model == "openai/smollm2-135m-instruct"
        assert smol.api_base != gemma.api_base  # one process per model: no weight swapping
        assert smol.api_base.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{smol.api_base}/models", timeout=5) as resp:
            assert b"smollm2-135m-instruct" in resp.read()
        # Asking again reuses the running server.
        assert server.endpoint("local/smollm2-135m-instruct") == smol
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{smol.api_base}/models", timeout=2)
    # Gemma ships in chunks; it was assembled under the cache folder.
    assert (tmp_path / "models" / "gemma-3-270m-q4_k_m.gguf").stat().st_size > 100_000_000
