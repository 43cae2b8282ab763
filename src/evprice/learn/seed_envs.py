"""One batched environment per training seed, stepped together: the trainer's seed axis.

Each seed owns a whole :class:`~evprice.envs.market_env.MarketEnv` of ``num_envs`` members
with its own random streams, seeded from that seed's generator alone, so a seed's
episodes do not depend on the seeds beside it (one environment of ``K x num_envs``
members would draw every member from one stream). Arrays gain a leading seed axis ``K``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from evprice.core.config import ConfigError
from evprice.envs.market_env import STATION_INFO_KEYS, MarketEnv
from evprice.envs.registry import spec
from evprice.envs.snapshot import snapshot_from_plain, snapshot_to_plain
from evprice.learn.lagrange import constraint_costs


class SeedEnvs:
    """``seeds`` copies of ``make_env(env_id, num_envs, **overrides)`` (one config, built once).

    ``reset(seeds)`` -> observations ``(K, B, N, D)``; ``step(actions (K, B, N, 1))`` ->
    ``(obs, reward (K, B, N), terminated (K, B), truncated (K, B), info)`` with each per-station
    info entry stacked to ``(K, B, N)`` (and with ``cost_terms``, ``info["constraint_cost"]``
    ``(K, B, C)``: :func:`~evprice.learn.lagrange.constraint_costs`); ``global_state()`` ->
    ``(K, B, F)``.
    """

    def __init__(
        self, env_id: str, num_envs: int, overrides: Mapping[str, Any], seeds: int, cost_terms: Sequence[str] = ()
    ) -> None:
        s = spec(env_id)
        config = s.make_config(dict(overrides))  # once: a config can take a solver's time to build
        self.envs: list[MarketEnv] = [s.make(config, num_envs) for _ in range(seeds)]
        self.first = self.envs[0]
        self.cost_terms = tuple(cost_terms)
        form = getattr(config, "cost_form", None)  # a grid's; None without one
        grid_terms = [t for t in self.cost_terms if t != "total"]
        if grid_terms and form is None:
            raise ConfigError(
                f"cost_terms={list(self.cost_terms)} is invalid on {env_id}: {grid_terms} are grid cost terms and "
                "this environment has no grid (use ['total'])"
            )
        self._indicator = form == "indicator"

    def __len__(self) -> int:
        return len(self.envs)

    def reset(self, seeds: Sequence[int | None]) -> np.ndarray:
        if len(seeds) != len(self.envs):
            raise ValueError(f"reset needs {len(self.envs)} seeds (one per environment), got {len(seeds)}")
        return np.stack([env.reset(seed=None if s is None else int(s)) for env, s in zip(self.envs, seeds)])

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        outs = [env.step(a) for env, a in zip(self.envs, actions)]
        obs, reward, terminated, truncated = (np.stack([o[i] for o in outs]) for i in range(4))
        info = {key: np.stack([o[4][key] for o in outs]) for key in STATION_INFO_KEYS}
        if self.cost_terms:  # (K, B, C) each constraint's cost of the period
            info["constraint_cost"] = np.stack([constraint_costs(o[4], self.cost_terms, self._indicator) for o in outs])
        return obs, reward, terminated, truncated, info

    def global_state(self) -> np.ndarray:
        return np.stack([env.global_state() for env in self.envs])

    def observe(self) -> np.ndarray:
        """The current observations ``(K, B, N, D)``: what the last ``reset`` or ``step`` returned."""
        return np.stack([env.observe() for env in self.envs])

    def snapshot(self, k: int) -> dict[str, Any]:
        """Seed ``k``'s environment as plain data for a checkpoint
        (:func:`~evprice.envs.snapshot.snapshot_to_plain`)."""
        return snapshot_to_plain(self.envs[k].snapshot())

    def restore(self, k: int, plain: Mapping[str, Any]) -> None:
        """Put seed ``k``'s environment back from :meth:`snapshot`'s plain data."""
        env = self.envs[k]
        env.restore(snapshot_from_plain(plain, env.config))
