"""Which shard of a run an item belongs to, and the id that every shard of one run shares.

A run split with ``--evalkit-shard=K/N`` gives each of N processes (CI runners) a
deterministic part of every suite's items; ``evalkit merge`` joins their run folders again.
An item's shard is a stable hash of (suite name, source item id) modulo N: the same on every
run, machine and process (never Python's salted ``hash()``), and adding an item moves only
that item. The items a row becomes — its turns ``<id>#t<k>`` when a conversation is judged
turn by turn, its perturbed variants ``<id>~<name>`` — share the row's shard, so that a
conversation's turns and a clean item's variants are answered and judged together.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from evalkit.config import ShardSpec
from evalkit.records._dataset import Item
from evalkit.records._run import ShardRecord, SuiteSource

#: ``#t<k>`` ends the id of a conversation's turn k (see ``records._conversation.turn_id``).
_TURN: Final = re.compile(r"#t\d+$")
#: Joins an item's id and a perturbation's name in a variant's id (``data._perturb.ID_MARK``,
#: which sits above this layer).
_VARIANT_MARK: Final = "~"


def source_id(item_id: str) -> str:
    """The id of the dataset row an item comes from: without its variant and turn suffixes.

    An id that merely looks like a variant or a turn (a row called ``a~b``) maps to a shorter
    key; that only puts it in the same shard as row ``a``, which is harmless.

    >>> source_id("trip#t2~typos"), source_id("trip#t2"), source_id("q01~lowercase")
    ('trip', 'trip', 'q01')
    """
    return _TURN.sub("", item_id.split(_VARIANT_MARK, 1)[0])


def shard_of(suite: str, item_id: str, count: int) -> int:
    """The shard (1 to ``count``) that runs item ``item_id`` of suite ``suite``.

    The first 8 bytes of SHA-256 of the suite name and the item's :func:`source_id`, modulo
    ``count``, plus one.

    >>> shard_of("sim", "q00", 8), shard_of("sim", "q00~typos", 8)
    (4, 4)
    """
    key = f"{suite}\x1f{source_id(item_id)}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % count + 1


def in_shard(suite: str, items: Iterable[Item], index: int, count: int) -> tuple[Item, ...]:
    """The items of ``items`` that shard ``index`` of ``count`` runs, in their order."""
    return tuple(i for i in items if shard_of(suite, i.id, count) == index)


def dataset_digest(items: Sequence[Item]) -> str:
    """A short hash of a suite's items as the run asks them (ids, fields, conversations).

    Taken on the items, variants and turns included, rather than on the file, so that the
    same rows in another format or with other line endings are the same dataset.
    """
    data = [dataclasses.asdict(item) for item in items]
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def derive_run_group(
    *, config_digest: str, evalkit_version: str, commit: str | None, datasets: Mapping[str, str]
) -> str:
    """The run group of shards that set none: equal exactly when all of these are.

    Shards of the same code, settings and data get the same group without talking to each
    other; ``datasets`` maps each suite to its :func:`dataset_digest`.
    """
    blob = json.dumps(
        [config_digest, evalkit_version, commit, sorted(datasets.items())], sort_keys=True
    ).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def shard_record(
    spec: ShardSpec,
    *,
    suites: Mapping[str, tuple[Sequence[Item], str]],
    run_group: str | None,
    config_digest: str,
    evalkit_version: str,
    commit: str | None,
) -> ShardRecord:
    """What run.json says of a shard: which of how many, its run group, and every suite.

    ``suites`` maps each suite the run collected to all its items and its module (relative
    to the project root); ``run_group`` is the configured group, else it is derived
    (:func:`derive_run_group`).
    """
    sources = {
        name: SuiteSource(module=module, dataset_digest=dataset_digest(items))
        for name, (items, module) in suites.items()
    }
    group = run_group or derive_run_group(
        config_digest=config_digest, evalkit_version=evalkit_version, commit=commit,
        datasets={name: source.dataset_digest for name, source in sources.items()},
    )  # fmt: skip
    return ShardRecord(index=spec.index, count=spec.count, group=group, suites=sources)
