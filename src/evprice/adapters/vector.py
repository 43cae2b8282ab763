"""Batched view for trainers: arrays in, arrays out, automatic reset.

``VecMarketEnv`` wraps a :class:`evprice.envs.MarketEnv` with ``num_envs`` members:

* ``reset(seed) -> (obs (B, N, D) float32, info)``;
* ``step(actions (B, N, A)) -> (obs, reward (B, N), terminated (B, N), truncated (B, N), info)``
  (``A = 1`` without a coordination protocol; under one, ``action_mask`` (N, A) says which
  columns each agent's action uses, and price-only actions (B, N_stations, 1) are accepted).

All members share the same horizon, so they end together. On the step that ends an episode
the returned ``obs`` already belong to the next episode (auto-reset, Gymnasium's
"same-step" convention); the last observations of the finished episode are in
``info["final_obs"]`` and ``info["final_state"]``. ``info`` otherwise holds the arrays of
:data:`evprice.envs.STATION_INFO_KEYS` (B, N) and ``info["market"]`` (B,).

With ``render_mode="rgb_array"``, ``render()`` returns an ``(H, W, 3)`` ``uint8`` picture of
member 0 (:mod:`evprice.envs.render`); after the step that ends an episode it already shows
the next one's start (auto-reset).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from evprice.adapters.render_view import RenderView
from evprice.envs.market_env import MarketEnv
from evprice.envs.snapshot import EnvSnapshot


class VecMarketEnv(RenderView):
    """Auto-resetting batched multi-agent environment."""

    def __init__(self, env: MarketEnv, render_mode: str | None = None) -> None:
        self.env = env
        if render_mode is not None:
            env.render_mode = render_mode  # validated there
        self.metadata = dict(env.metadata)
        self.num_envs = env.num_envs
        self.agents = list(env.agent_ids)
        self.n_agents = env.n_agents
        self.single_observation_space = spaces.Box(
            env.observation_low.min(0), env.observation_high.max(0), dtype=np.float32
        )
        self.observation_low = env.observation_low.copy()  # (N, D), per agent
        self.observation_high = env.observation_high.copy()
        self.single_action_space = spaces.Box(-1.0, 1.0, shape=(env.action_size,), dtype=np.float32)
        self.action_mask = env.action_mask.copy()  # (N, A): the columns each agent's action uses
        low, high = env.layout.state_bounds
        self.state_space = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
        self._needs_reset = True

    @property
    def config(self):
        return self.env.config

    def observation_names(self, agent: str):
        return self.env.observation_names(agent)

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        obs = self.env.reset(seed)
        self._needs_reset = False
        return obs, {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._needs_reset:
            raise RuntimeError("call reset() before the first step()")
        obs, reward, terminated, truncated, info = self.env.step(actions)
        if truncated.any() or terminated.any():
            info["final_obs"] = obs
            info["final_state"] = self.env.global_state()
            obs = self.env.reset()
        n = self.n_agents
        return (
            obs,
            reward,
            np.repeat(terminated[:, None], n, axis=1),
            np.repeat(truncated[:, None], n, axis=1),
            info,
        )

    def snapshot(self) -> EnvSnapshot:
        """The whole state of the batch as an immutable value (:mod:`evprice.envs.snapshot`)."""
        return self.env.snapshot()

    def restore(self, snapshot: EnvSnapshot) -> None:
        """Put a :meth:`snapshot` back; ``step`` follows on from it (the batch resets itself at an
        episode's end, so a snapshot is never taken at one)."""
        self.env.restore(snapshot)
        self._needs_reset = False

    def state(self) -> np.ndarray:
        """Global state (B, F) float32."""
        return self.env.global_state()
