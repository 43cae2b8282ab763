"""``EnvSnapshot``: the whole state of an environment as one immutable value.

``env.snapshot()`` takes it and ``env.restore(snapshot)`` puts it back; stepping after a
restore repeats, bit for bit, what followed the snapshot (the world's arrays, every random
stream's position, and what the scenario adds: a leader's commitment, the grid's load
factors, stream and last voltages, the roads' travel times, the last ``info`` for
rendering). Planners and searches branch from a snapshot instead of reaching into the
environment. A snapshot pickles; :func:`snapshot_to_plain` turns it into plain data (for
a checkpoint read with ``weights_only=True``) and :func:`snapshot_from_plain` back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from evprice.core.snapshot import FrozenDict, from_plain, to_plain
from evprice.market.state import MarketState
from evprice.market.world import WorldSnapshot


@dataclass(frozen=True)
class EnvSnapshot:
    """What :meth:`evprice.envs.MarketEnv.snapshot` returns.

    ``env_id``, ``num_envs`` and ``config`` say which environments it can be restored into
    (the same scenario, batch and config); ``world`` is the market's; ``parts`` the
    scenario's own state, frozen (:func:`evprice.core.snapshot.freeze`)."""

    env_id: str
    num_envs: int
    config: Any
    world: WorldSnapshot
    parts: FrozenDict

    @property
    def period(self) -> int:
        """Pricing periods completed in the episode when the snapshot was taken."""
        return self.world.state.period


def snapshot_to_plain(snapshot: EnvSnapshot, encode_array: Any = None) -> dict[str, Any]:
    """``snapshot`` as plain data (:func:`evprice.core.snapshot.to_plain`) for a file, without
    its config: the environment it is restored into supplies that (:func:`snapshot_from_plain`)."""
    world = snapshot.world
    return {
        "env_id": snapshot.env_id,
        "num_envs": snapshot.num_envs,
        "world": {
            "batch_size": world.batch_size,
            "n_scenarios": world.n_scenarios,
            "state": to_plain({f.name: getattr(world.state, f.name) for f in fields(MarketState)}, encode_array),
            "streams": to_plain(world.streams, encode_array),
        },
        "parts": to_plain(snapshot.parts, encode_array),
    }


def snapshot_from_plain(plain: Mapping[str, Any], config: Any, decode_array: Any = None) -> EnvSnapshot:
    """The :class:`EnvSnapshot` a :func:`snapshot_to_plain` value stands for, with ``config``
    (the config of the environment it will be restored into, which the caller has matched)."""
    world = plain["world"]
    state = from_plain(world["state"], decode_array)
    return EnvSnapshot(
        env_id=str(plain["env_id"]),
        num_envs=int(plain["num_envs"]),
        config=config,
        world=WorldSnapshot(
            batch_size=int(world["batch_size"]),
            n_scenarios=int(world["n_scenarios"]),
            state=MarketState(**dict(state)),
            streams=from_plain(world["streams"], decode_array),
        ),
        parts=from_plain(plain["parts"], decode_array),
    )
