"""Gymnasium view with one central agent that sets every station's price (``evprice.make_gym``).

For single-agent learners and planners (the safe model-based planner of document 2):

* action: ``(N,)`` float32, the price of each station in currency/kWh, inside
  ``action_space`` (the stations' price bounds); finite values outside are clipped to
  them, NaN or a wrong shape raise. Under a coordination protocol the prices are followed
  by every agent's protocol columns in [-1, 1], agent by agent (``action_names`` names
  them all: the stations' messages or announcements, a mediator's recommendations);
* observation: the global state ``(F,)`` float32 (every feature, in declared order;
  ``observation_names`` names them);
* reward: the mean of the stations' rewards (with a team reward, the team reward; a
  mediator's own reward is not in it);
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
        n = env.n_stations
        # the protocol's columns: every (agent, column) past the stations' prices, agent by agent
        self._extra = [(i, j) for i in range(env.n_agents) for j in range(int(i < n), int(env.action_widths[i]))]
        low = np.concatenate([low, -np.ones(len(self._extra))])
        high = np.concatenate([high, np.ones(len(self._extra))])
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

    @property
    def action_names(self) -> tuple[str, ...]:
        """``feature.field`` each action entry writes: the stations' prices, then the protocol's columns."""
        env = self.env
        prices = [env.action_names(a)[0] for a in env.station_ids]
        extra = [env.action_names(env.agent_ids[i])[j] for i, j in self._extra]
        return tuple(f"{feature}.{field}" for feature, field in prices + extra)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.env.reset(seed)
        self._needs_reset = False
        return self.env.global_state()[0], {}

    def step(self, action: Any):
        if self._needs_reset:
            raise RuntimeError(f"{self.env.env_id}: call reset() before step() (the episode is over or not started)")
        env = self.env
        what = "action (price of each station, currency/kWh" + (", then the protocol's columns" if self._extra else "")
        what += ")"
        a = check_actions(action, self.action_space.shape, what=what)
        price = np.minimum(np.maximum(a[: env.n_stations], self._price_low), self._price_high)  # np.clip's values
        full = None
        if self._extra:
            full = np.zeros((1, env.n_agents, env.action_size))
            rows, cols = zip(*self._extra)
            full[0, rows, cols] = np.minimum(np.maximum(a[env.n_stations :], -1.0), 1.0)
        # the prices themselves: no round trip through [-1, 1], which could move them by an ulp
        _, reward, terminated, truncated, info = env.step_mapped(price[None], full)
        done = bool(truncated[0] or terminated[0])
        self._needs_reset = done
        out: dict[str, Any] = {
            "cost": float(np.max(info["cost"][0])),
            "station": {k: np.asarray(info[k][0]) for k in STATION_INFO_KEYS},
        }
        for group, values in info.items():
            if isinstance(values, dict):
                out[group] = {k: _first(v) for k, v in values.items()}
        station_reward = float(reward[0, : env.n_stations].mean())
        return env.global_state()[0], station_reward, bool(terminated[0]), bool(truncated[0]), out

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
