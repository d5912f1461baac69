"""A real Redis server for the tests: Debian's redis-server on a free loopback port.

No persistence (no RDB, no AOF) and a temporary working directory; stopped (and killed if it
does not stop) at the end. ``pause``/``resume`` freeze the process (SIGSTOP/SIGCONT) so that a
test can see what a server that stops answering does to a run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

INSTALL_HINT = (
    "redis-server is not installed, and the shared-cache tests need a real Redis server: "
    "install it with `apt-get install -y redis-server` (Debian/Ubuntu; `brew install redis` "
    "on macOS), or put a redis-server on PATH"
)


def find_redis_server(name: str = "redis-server") -> str:
    """The path of the ``redis-server`` executable.

    Raises:
        FileNotFoundError: it is not on PATH; the message says how to install it.
    """
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(INSTALL_HINT)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process on 127.0.0.1; ``url`` reaches its database 0."""

    def __init__(self, workdir: Path, *, executable: str = "redis-server") -> None:
        self.executable = find_redis_server(executable)
        self.workdir = workdir
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, attempts: int = 3) -> RedisServer:
        """Start the server and wait until it answers PING (a taken port is tried again)."""
        for _ in range(attempts):
            self.port = free_port()
            log = self.workdir / f"redis-{self.port}.log"
            self.proc = subprocess.Popen(
                [self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
                 "--logfile", str(log), "--daemonize", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._wait_ready(timeout_s=10.0):
                return self
            self.stop()
        raise RuntimeError(f"redis-server did not start; see the logs in {self.workdir}")

    def _wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def pause(self) -> None:
        """Freeze the server: connections still open, but nothing answers."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server run again."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Stop the server (a paused one too) and wait for it to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.resume()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
