"""PettingZoo Parallel API view of a market (the only module that imports PettingZoo).

A thin ``B = 1`` view of :class:`evprice.envs.MarketEnv`: dicts keyed by agent id in, dicts
out. Spaces are created once and cached, so ``action_space(a) is action_space(a)``.

* observation: ``Box(low, high, (D,), float32)`` in the agent's layout
  (``observation_names(agent)`` names each column);
* action: ``Box(-1, 1, (1,), float32)``, mapped linearly to ``[price_min, price_max]``;
  finite values outside are clipped, NaN / inf, a wrong shape, a missing or unknown agent
  raise ``ActionError``. Under a coordination protocol ``Box(-1, 1, (A,), float32)`` for
  every agent, its columns as ``action_names(agent)`` names them (a station's price first,
  then its message or announcement; a mediator's recommendations), padding ignored;
* ``state()``: every feature field in declared order (for centralised critics);
* episodes end by truncation at the horizon; then ``agents`` is empty;
* ``render_mode``: None (default) or ``"rgb_array"``: ``render()`` returns an ``(H, W, 3)``
  ``uint8`` picture of the market (:mod:`evprice.envs.render`); ``metadata["render_modes"]``
  lists the modes and ``metadata["render_fps"]`` the playback speed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from evprice.adapters.multi_agent import AgentActions, LiveAgentSnapshots, agent_infos
from evprice.adapters.render_view import RenderView
from evprice.core.observation import ObsName
from evprice.envs.market_env import MarketEnv
from evprice.envs.render import RENDER_FPS, RENDER_MODES


class ParallelMarketEnv(LiveAgentSnapshots, RenderView, ParallelEnv):
    """PettingZoo ``ParallelEnv`` over a one-member :class:`MarketEnv`.

    ``render_mode`` (None or ``"rgb_array"``) is set on the wrapped environment; None keeps
    the environment's own."""

    metadata = {
        "name": "evprice_market",
        "render_modes": list(RENDER_MODES),
        "render_fps": RENDER_FPS,
        "is_parallelizable": True,
    }

    def __init__(self, env: MarketEnv, render_mode: str | None = None) -> None:
        if env.num_envs != 1:
            raise ValueError(f"the PettingZoo view needs num_envs=1, got {env.num_envs}")
        self.env = env
        self.metadata = {**self.metadata, "name": env.env_id}
        if render_mode is not None:
            env.render_mode = render_mode  # validated there
        self.possible_agents = list(env.agent_ids)
        self.agents: list[str] = []
        self._observation_spaces = {
            a: spaces.Box(env.observation_low[i], env.observation_high[i], dtype=np.float32)
            for i, a in enumerate(self.possible_agents)
        }
        width = (env.action_size,)
        self._action_spaces = {a: spaces.Box(-1.0, 1.0, shape=width, dtype=np.float32) for a in self.possible_agents}
        low, high = env.layout.state_bounds
        self.state_space = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
        self._read_actions = AgentActions(env)

    # -- spaces ------------------------------------------------------------------------
    @property
    def observation_spaces(self) -> dict[str, spaces.Box]:
        """The cached observation space of every possible agent (PettingZoo's optional dict)."""
        return dict(self._observation_spaces)

    @property
    def action_spaces(self) -> dict[str, spaces.Box]:
        return dict(self._action_spaces)

    def observation_space(self, agent: str) -> spaces.Box:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Box:
        return self._action_spaces[agent]

    def observation_names(self, agent: str) -> tuple[ObsName, ...]:
        """``(feature key, field)`` of each observation column of ``agent``."""
        return self.env.observation_names(agent)

    def action_names(self, agent: str) -> tuple[ObsName, ...]:
        """``(feature key, field)`` each action column of ``agent`` writes (padding ignored)."""
        return self.env.action_names(agent)

    @property
    def config(self):
        return self.env.config

    # -- api ---------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        obs = self.env.reset(seed)[0]
        self.agents = list(self.possible_agents)
        return {a: obs[i] for i, a in enumerate(self.agents)}, {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise RuntimeError(f"{self.env.env_id}: no agents are live: call reset() before step()")
        agents = self.possible_agents  # every agent is live until the episode ends
        obs, reward, terminated, truncated, info = self.env.step_mapped(*self._read_actions.read(actions))
        infos = agent_infos(agents, info)
        rewards = dict(zip(agents, reward.tolist()[0]))
        ended, cut = bool(terminated[0]), bool(truncated[0])
        terms = dict.fromkeys(agents, ended)
        truncs = dict.fromkeys(agents, cut)
        observations = dict(zip(agents, obs[0]))
        if ended or cut:
            self.agents = []
        return observations, rewards, terms, truncs, infos

    def state(self) -> np.ndarray:
        return self.env.global_state()[0]
