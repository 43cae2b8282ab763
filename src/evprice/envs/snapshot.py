"""``EnvSnapshot``: the whole state of an environment as one immutable value.

``env.snapshot()`` takes it and ``env.restore(snapshot)`` puts it back; stepping after a
restore repeats, bit for bit, what followed the snapshot (the world's arrays, every random
stream's position, and what the scenario adds: a leader's commitment, the grid's load
factors, stream and last voltages, the roads' travel times, the last ``info`` for
rendering). Planners and searches branch from a snapshot instead of reaching into the
environment. A snapshot pickles, so it can be stored beside a checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evprice.core.snapshot import FrozenDict
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
