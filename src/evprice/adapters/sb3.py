"""Stable-Baselines3 ``VecEnv`` over the batched market: one sub-environment per (member, station).

PettingZoo's tutorials train parameter-shared PPO by turning each agent of each
environment into one sub-environment of a vectorised env (SuperSuit's
``pettingzoo_env_to_vec_env_v1`` then ``concat_vec_envs_v1``). That chain breaks with
SB3 2.9 (``'ConcatVecEnv' object has no attribute 'seed'``). :class:`MarketSB3VecEnv` does
the same directly on the batched world, with no copies of the environment:

* ``num_envs = B x N``: sub-environment ``b * N + i`` is station ``i`` of member ``b``;
* observations ``(B N, D)`` float32, the station's own (:class:`evprice.envs.MarketEnv`,
  padded to one size ``D``); actions ``(B N, A)`` in ``[-1, 1]`` (``A = 1`` without a
  coordination protocol; a mediator is one more sub-environment per member); rewards ``(B N,)``;
* every member ends its episode at the same period, so all sub-environments are ``done``
  together (truncation at the horizon: ``info["TimeLimit.truncated"] = True``), each
  ``info["terminal_observation"]`` holds the last observation, and the observations
  returned already belong to the next episode, as SB3 expects;
* ``seed(s)`` seeds the next ``reset`` (SB3's convention): the batch is seeded with ``s``
  and spreads it over its members, so one seed fixes the run.

``evprice.make_sb3_vec(env_id, num_envs, **overrides)`` builds it. SB3 is optional
(``pip install stable-baselines3``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from gymnasium import spaces

try:  # SB3 is optional: without it the class is defined on a stand-in base that refuses to build
    from stable_baselines3.common.vec_env import VecEnv
except ImportError:  # pragma: no cover
    VecEnv = object  # type: ignore[assignment,misc]
    _SB3 = False
else:
    _SB3 = True

from evprice.envs.market_env import MarketEnv


class MarketSB3VecEnv(VecEnv):  # type: ignore[misc]
    """A Stable-Baselines3 ``VecEnv`` of ``B x N`` station sub-environments (see the module docstring)."""

    def __init__(self, env: MarketEnv) -> None:
        if not _SB3:
            raise ImportError("make_sb3_vec needs Stable-Baselines3: pip install stable-baselines3")
        self.env = env
        self.n_members, self.n_agents = env.num_envs, env.n_agents
        obs_space = spaces.Box(env.observation_low.min(0), env.observation_high.max(0), dtype=np.float32)
        act_space = spaces.Box(-1.0, 1.0, shape=(env.action_size,), dtype=np.float32)
        super().__init__(self.n_members * self.n_agents, obs_space, act_space)
        self._actions: np.ndarray | None = None

    # -- the VecEnv protocol -----------------------------------------------------------
    def reset(self) -> np.ndarray:
        """New episodes for every member; seeded by the first of SB3's seeds (:meth:`seed`), if set."""
        seed = self._seeds[0]  # VecEnv.seed(s) sets s, s + 1, ...: the batch takes s and spreads it
        self._reset_seeds()
        return self._flat(self.env.reset(None if seed is None else int(seed)))

    def step_async(self, actions: np.ndarray) -> None:
        a = np.asarray(actions, dtype=np.float32).reshape(self.n_members, self.n_agents, self.env.action_size)
        self._actions = a

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        if self._actions is None:
            raise RuntimeError("call step_async(actions) before step_wait()")
        obs, reward, terminated, truncated, _ = self.env.step(self._actions)
        self._actions = None
        done = bool(terminated.any() or truncated.any())  # every member shares the horizon
        flat_reward = reward.reshape(-1).astype(np.float32)
        if not done:
            return self._flat(obs), flat_reward, np.zeros(self.num_envs, dtype=bool), [{} for _ in range(self.num_envs)]
        last = self._flat(obs)
        infos = [{"terminal_observation": last[k], "TimeLimit.truncated": True} for k in range(self.num_envs)]
        return self._flat(self.env.reset()), flat_reward, np.ones(self.num_envs, dtype=bool), infos

    def close(self) -> None:
        """Nothing to release: the world lives in this process."""

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self.env, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self.env, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any) -> list[Any]:
        result = getattr(self.env, method_name)(*method_args, **method_kwargs)
        return [result] * len(self._indices(indices))

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False] * len(self._indices(indices))

    # -- helpers -----------------------------------------------------------------------
    def _flat(self, obs: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(obs.reshape(self.num_envs, -1), dtype=np.float32)

    def _indices(self, indices: None | int | Iterable[int]) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        return [indices] if isinstance(indices, int) else list(indices)
