"""``evalkit cache push`` and ``evalkit cache pull``: a local cache folder to Redis and back.

Thin: check the flags (every bad one is named before anything is copied), open the two stores,
call :func:`~evalkit.models._cache_copy.copy_entries`, print its counts. Exit 0 when the two
stores agree, 1 when some keys hold different answers (listed; nothing was overwritten).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING, Final

from evalkit.config import EvalkitConfig, check_cache_url, is_url
from evalkit.errors import CacheUnavailable, UsageError
from evalkit.redaction import redact

if TYPE_CHECKING:
    from evalkit.models._cache_redis import RedisStore
    from evalkit.models._cache_store import DiskStore

#: The folder evalkit caches in when nothing else is configured.
DEFAULT_DIR: Final = str(EvalkitConfig.model_fields["cache_dir"].default)
#: Seconds one Redis command may take here: a copy is not a run, and SCAN pages take longer.
_TIMEOUT_S: Final = 10.0
#: Conflicting keys listed in full; the rest are counted.
_SHOWN: Final = 10


def _redis(flag: str, url: str) -> RedisStore:
    """The Redis store ``flag`` names, reached once to check it answers.

    Raises:
        UsageError: not a redis:// URL, malformed, or the server does not answer.
    """
    from evalkit.models._cache_redis import RedisStore

    shown = redact(url)
    if not is_url(url):
        raise UsageError(
            f"{flag} {shown}: not a Redis URL; give one such as redis://localhost:6379/0 "
            "(to copy a cache folder to another folder, copy the folder itself)"
        )
    try:
        check_cache_url(url)
    except ValueError as exc:
        raise UsageError(f"{flag} {shown}: {exc}") from None
    store = RedisStore(url, timeout_s=_TIMEOUT_S)
    try:
        store.ping()
    except CacheUnavailable as exc:
        reason = str(exc).removeprefix(f"Redis at {store.name}: ")  # the flag names it already
        raise UsageError(
            f"{flag} {shown}: cannot be reached ({reason}); start the server or fix the URL"
        ) from None
    return store


def _folder(flag: str, value: str, *, must_exist: bool) -> DiskStore:
    """The cache folder ``flag`` names.

    Raises:
        UsageError: a URL, a file, or (``must_exist``) not a folder evalkit has cached in.
    """
    from evalkit.models._cache_store import RESPONSES, DiskStore

    if is_url(value):
        raise UsageError(
            f"{flag} {redact(value)}: give a cache folder here (e.g. {DEFAULT_DIR}), not a URL"
        )
    store = DiskStore(Path(value))
    if Path(value).exists() and not Path(value).is_dir():
        raise UsageError(f"{flag} {value}: is a file; give a cache folder (e.g. {DEFAULT_DIR})")
    if must_exist and not store.exists():
        raise UsageError(
            f"{flag} {value}: not an evalkit cache folder (it has no {RESPONSES}/ folder); give "
            f"the folder that cache_dir names (default {DEFAULT_DIR})"
        )
    return store


def _ttl(value: str) -> float:
    try:
        ttl = float(value)
    except ValueError:
        ttl = math.nan
    if not (math.isfinite(ttl) and ttl > 0):
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of seconds")
    return ttl


def _copy(
    source: DiskStore | RedisStore,
    target: DiskStore | RedisStore,
    *,
    redis_flag: str,
    ttl_s: float | None,
) -> int:
    from evalkit.models._cache_copy import CopyReport, copy_entries

    report = CopyReport()
    try:
        copy_entries(source, target, report, ttl_s=ttl_s)
    except CacheUnavailable as exc:
        raise UsageError(
            f"{redis_flag}: {exc}; {report.summary(source.name, target.name)} before it failed; "
            "run the command again to copy the rest"
        ) from None
    finally:
        source.close()
        target.close()
    print(report.summary(source.name, target.name))
    if not report.conflicts:
        return 0
    shown = ", ".join(report.conflicts[:_SHOWN])
    more = len(report.conflicts) - _SHOWN
    print(
        f"conflicts: {len(report.conflicts)} keys hold a different answer in {target.name} "
        f"than in {source.name} (the same request answered differently; kept as they were): "
        f"{shown}{f' and {more} more' if more > 0 else ''}"
    )
    return 1


def _push(args: argparse.Namespace) -> int:
    source = _folder("--from", args.source, must_exist=True)
    target = _redis("--to", args.target)
    return _copy(source, target, redis_flag="--to", ttl_s=args.ttl_s)


def _pull(args: argparse.Namespace) -> int:
    target = _folder("--to", args.target, must_exist=False)
    source = _redis("--from", args.source)
    return _copy(source, target, redis_flag="--from", ttl_s=None)


def add_cache_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``evalkit cache push`` and ``evalkit cache pull`` to the command's subcommands."""
    cache = sub.add_parser(
        "cache", help="copy response-cache entries between a local folder and Redis"
    )
    verbs = cache.add_subparsers(dest="cache_command", required=True)
    push = verbs.add_parser(
        "push", help="copy a local cache folder's entries to Redis (existing keys are kept)"
    )
    push.add_argument(
        "--from", dest="source", default=DEFAULT_DIR, metavar="DIR",
        help=f"the local cache folder (default: {DEFAULT_DIR})",
    )  # fmt: skip
    push.add_argument(
        "--to", dest="target", required=True, metavar="URL",
        help="the Redis server, e.g. redis://localhost:6379/0",
    )  # fmt: skip
    push.add_argument(
        "--ttl-s", type=_ttl, default=None, metavar="SECONDS",
        help="new entries expire after this many seconds (default: never)",
    )  # fmt: skip
    push.set_defaults(func=_push)
    pull = verbs.add_parser("pull", help="copy a Redis server's entries into a local cache folder")
    pull.add_argument(
        "--from", dest="source", required=True, metavar="URL",
        help="the Redis server, e.g. redis://localhost:6379/0",
    )  # fmt: skip
    pull.add_argument(
        "--to", dest="target", default=DEFAULT_DIR, metavar="DIR",
        help=f"the local cache folder (default: {DEFAULT_DIR}; created if missing)",
    )  # fmt: skip
    pull.set_defaults(func=_pull)
