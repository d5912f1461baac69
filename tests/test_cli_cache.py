"""`evalkit cache push` / `pull`: a local cache folder to a real Redis server and back."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from _project import digest
from _redis import RedisServer, free_port

from evalkit.cli import main
from evalkit.errors import CacheUnavailable
from evalkit.models import Completion, ResponseCache
from evalkit.models._cache_copy import CopyReport, copy_entries
from evalkit.models._cache_redis import KEY_PREFIX, RedisStore
from evalkit.models._cache_store import DiskStore

PASSWORD = "hunter2-redis-pw"


def answer(text: str, *, cost: float = 0.1) -> Completion:
    return Completion(text=text, input_tokens=5, output_tokens=2, cost_usd=cost, latency_s=0.3)


def folder_with(root: Path, entries: dict[str, Completion]) -> Path:
    cache = ResponseCache(root, "use")
    for key, completion in entries.items():
        assert cache.put(key, completion, model="openai/m")
    cache.close()
    return root


@pytest.fixture
def raw(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["cache", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_push_then_pull_round_trips_every_entry(
    redis_server: RedisServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = {f"k{i}": answer(f"answer {i}") for i in range(25)}
    source = folder_with(tmp_path / "a", entries)
    code, out, err = run(capsys, "push", "--from", str(source), "--to", redis_server.url)
    assert (code, err) == (0, "")
    assert out.startswith(f"25 entries copied from {source} to {redis_server.url}, 0 already")
    code, out, _ = run(capsys, "pull", "--from", redis_server.url, "--to", str(tmp_path / "b"))
    assert code == 0
    assert out.startswith("25 entries copied")
    pulled = ResponseCache(tmp_path / "b", "use")
    for key, completion in entries.items():
        hit = pulled.get(key)
        assert hit is not None
        assert (hit.text, hit.input_tokens, hit.cached) == (completion.text, 5, True)
    # Again: nothing new to copy, and nothing is overwritten.
    code, out, _ = run(capsys, "push", "--from", str(source), "--to", redis_server.url)
    assert code == 0
    assert out.startswith(f"0 entries copied from {source} to {redis_server.url}, 25 already there")


def test_entries_are_stored_under_the_runs_own_keys(
    redis_server: RedisServer, raw: redis.Redis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = folder_with(tmp_path, {"abc": answer("x")})
    run(capsys, "push", "--from", str(source), "--to", redis_server.url, "--ttl-s", "120")
    assert raw.keys() == [KEY_PREFIX + "abc"]
    assert json.loads(raw.get(KEY_PREFIX + "abc") or "")["text"] == "x"
    assert 0 < raw.pttl(KEY_PREFIX + "abc") <= 120_000
    # A run on Redis hits what was pushed.
    assert ResponseCache(redis_server.url, "use").get("abc") is not None


def test_a_different_answer_under_the_same_key_is_a_conflict_never_overwritten(
    redis_server: RedisServer, raw: redis.Redis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = ResponseCache(redis_server.url, "use")
    shared.put("same", answer("A", cost=0.9), model="openai/m")  # cost differs: same answer
    shared.put("differs", answer("theirs"), model="openai/m")
    source = folder_with(
        tmp_path, {"same": answer("A"), "differs": answer("mine"), "new": answer("n")}
    )
    code, out, _ = run(capsys, "push", "--from", str(source), "--to", redis_server.url)
    assert code == 1
    assert "1 entries copied" in out
    assert "1 already there, 1 conflicting" in out
    assert "conflicts: 1 keys hold a different answer" in out
    assert out.rstrip().endswith(": differs")
    kept = shared.get("differs")
    assert kept is not None
    assert kept.text == "theirs"


def test_an_unreadable_entry_is_counted_and_left_behind(
    redis_server: RedisServer, raw: redis.Redis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw.set(KEY_PREFIX + "bad", "{not json")
    ResponseCache(redis_server.url, "use").put("good", answer("g"), model="m")
    code, out, _ = run(capsys, "pull", "--from", redis_server.url, "--to", str(tmp_path / "b"))
    assert code == 0
    assert out.startswith("1 entries copied")
    assert "1 unreadable in" in out
    assert ResponseCache(tmp_path / "b").store.get("bad") is None


def test_the_password_is_never_printed(
    redis_server: RedisServer, raw: redis.Redis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw.config_set("requirepass", PASSWORD)
    url = f"redis://:{PASSWORD}@127.0.0.1:{redis_server.port}/0"
    source = folder_with(tmp_path, {"k": answer("x")})
    code, out, err = run(capsys, "push", "--from", str(source), "--to", url)
    assert code == 0
    assert PASSWORD not in out + err
    assert f"redis://[redacted]@127.0.0.1:{redis_server.port}/0" in out


# --- bad input: one message naming the flag, exit 2, nothing copied or written ---


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["push", "--from", "{folder}", "--to", "http://127.0.0.1:6379/0"],
         r"--to http://127.0.0.1:6379/0: the scheme 'http:' is not supported"),
        (["push", "--from", "{folder}", "--to", "redis://127.0.0.1:99999/0"],
         r"--to redis://127.0.0.1:99999/0: give a host and a port from 1 to 65535"),
        (["push", "--from", "{folder}", "--to", "{tmp}/elsewhere"],
         r"--to .*elsewhere: not a Redis URL; give one such as redis://"),
        (["push", "--from", "{tmp}/missing", "--to", "redis://127.0.0.1:1/0"],
         r"--from .*missing: not an evalkit cache folder \(it has no responses/ folder\)"),
        (["push", "--from", "{tmp}/plain", "--to", "redis://127.0.0.1:1/0"],
         r"--from .*plain: not an evalkit cache folder"),
        (["push", "--from", "{tmp}/file", "--to", "redis://127.0.0.1:1/0"],
         r"--from .*file: is a file; give a cache folder"),
        (["push", "--from", "{folder}", "--to", "redis://:hunter2-redis-pw@127.0.0.1:{port}/0"],
         r"--to redis://\[redacted\]@127.0.0.1:\d+/0: cannot be reached \(.*refused.*\); start the server or fix the URL"),
        (["pull", "--from", "redis://127.0.0.1:{port}/0", "--to", "{tmp}/b"],
         r"--from redis://127.0.0.1:\d+/0: cannot be reached"),
        (["pull", "--from", "{folder}", "--to", "{tmp}/b"],
         r"--from .*: not a Redis URL"),
        (["pull", "--from", "redis://127.0.0.1:{port}/0", "--to", "{tmp}/file"],
         r"--to .*file: is a file; give a cache folder"),
        (["pull", "--from", "redis://127.0.0.1:{port}/0", "--to", "redis://h:1/0"],
         r"--to redis://h:1/0: give a cache folder here"),
    ],
)  # fmt: skip
def test_bad_input_names_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    folder = folder_with(tmp_path / "cache", {"k": answer("x")})
    (tmp_path / "plain").mkdir()
    (tmp_path / "file").write_text("x")
    before = digest(tmp_path)
    filled = [a.format(folder=folder, tmp=tmp_path, port=free_port()) for a in argv]
    code, out, err = run(capsys, *filled)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("evalkit: error: ")
    assert "Traceback" not in err
    assert "hunter2" not in err
    assert re.search(message, err), err
    assert digest(tmp_path) == before


def test_a_server_that_dies_during_a_copy_is_named_with_what_was_copied(
    redis_server: RedisServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = DiskStore(folder_with(tmp_path, {f"k{i}": answer(str(i)) for i in range(10)}))
    target = RedisStore(redis_server.url, timeout_s=0.5)
    copied: list[str] = []

    class Dying(DiskStore):
        def get(self, key: str) -> str | None:
            if len(copied) == 4:
                redis_server.stop()
            copied.append(key)
            return source.get(key)

    report = CopyReport()
    with pytest.raises(CacheUnavailable, match=r"Redis at redis://127.0.0.1:\d+/0: GET failed"):
        copy_entries(Dying(source.folder), target, report)
    assert report.copied == 4
