"""Gymnasium view with one central agent that sets every station's price (``evprice.make_gym``).

For single-agent learners and planners (the safe model-based planner of document 2):

* action: ``(N,)`` float32, the price of each station in currency/kWh, inside
  ``action_space`` (the stations' price bounds); finite values outside are clipped to
  them, NaN or a wrong shape raise;
* observation: the global state ``(F,)`` float32 (every feature, in declared order;
  ``observation_names`` names them);
* reward: the mean of the stations' rewards (with a team reward, the team reward);
* ``info["cost"]``: the period's constraint cost (a float, 0 without a grid), on every
  step, the last one of an episode included; ``info["station"]`` the per-station arrays
  ``(N,)``; ``info["market"]``, ``info["grid"]``, ``info["network"]`` the scenario's groups
  with the batch axis removed.

The episode is truncated at the horizon and never terminates. ``render_mode="rgb_array"``
makes ``render()`` return an ``(H, W, 3)`` ``uint8`` picture of the market
(:mod:`evprice.envs.render`).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from evprice.adapters.render_view import RenderView
from evprice.core.actions import check_actions
from evprice.envs.market_env import STATION_INFO_KEYS, MarketEnv
from evprice.envs.render import RENDER_FPS, RENDER_MODES
from evprice.envs.snapshot import EnvSnapshot


class CentralPricingEnv(RenderView, gym.Env):
    """One agent prices all stations of a ``num_envs = 1`` :class:`~evprice.envs.MarketEnv`.

    ``render_mode`` (None or ``"rgb_array"``) is set on the wrapped environment; None keeps
    the environment's own."""

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(self, env: MarketEnv, render_mode: str | None = None) -> None:
        if env.num_envs != 1:
            raise ValueError(f"CentralPricingEnv wraps one environment, got num_envs={env.num_envs}")
        self.env = env
        if render_mode is not None:
            env.render_mode = render_mode  # validated there
        self.agents = env.agent_ids
        low, high = env.params.price_min, env.params.price_max
        self._price_low, self._price_high = low, high
        self.action_space = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
        s_low, s_high = env.layout.state_bounds
        self.observation_space = spaces.Box(s_low.astype(np.float32), s_high.astype(np.float32), dtype=np.float32)
        self._needs_reset = True

    @property
    def config(self) -> Any:
        return self.env.config

    @property
    def observation_names(self) -> tuple[str, ...]:
        """``feature.field`` name of each observation entry."""
        return tuple(f"{feature}.{field}" for feature, field in self.env.layout.state_names)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.env.reset(seed)
        self._needs_reset = False
        return self.env.global_state()[0], {}

    def step(self, action: Any):
        if self._needs_reset:
            raise RuntimeError(f"{self.env.env_id}: call reset() before step() (the episode is over or not started)")
        price = check_actions(action, (self.env.n_agents,), what="action (price of each station, currency/kWh)")
        price = np.minimum(np.maximum(price, self._price_low), self._price_high)  # np.clip's values, cheaper
        # the prices themselves: no round trip through [-1, 1], which could move them by an ulp
        _, reward, terminated, truncated, info = self.env.step_mapped(price[None])
        done = bool(truncated[0] or terminated[0])
        self._needs_reset = done
        out: dict[str, Any] = {
            "cost": float(np.max(info["cost"][0])),
            "station": {k: np.asarray(info[k][0]) for k in STATION_INFO_KEYS},
        }
        for group, values in info.items():
            if isinstance(values, dict):
                out[group] = {k: _first(v) for k, v in values.items()}
        return self.env.global_state()[0], float(reward[0].mean()), bool(terminated[0]), bool(truncated[0]), out

    def snapshot(self) -> EnvSnapshot:
        """The whole state of the environment as an immutable value (:mod:`evprice.envs.snapshot`)."""
        return self.env.snapshot()

    def restore(self, snapshot: EnvSnapshot) -> None:
        """Put a :meth:`snapshot` back; ``step`` may follow unless it was taken at the episode's end."""
        self.env.restore(snapshot)
        self._needs_reset = self.env.world.done


def _first(x: Any) -> Any:
    """Batch member 0 of an info entry: a float for (1,) arrays, the row for (1, ...) ones."""
    a = np.asarray(x)
    return a[0].item() if a.ndim == 1 else a[0]
