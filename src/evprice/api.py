"""The public entry points: ``make``, ``make_vec``, ``make_gym``, ``make_sb3_vec`` and
``make_scenario``. Each takes a registered id or the path of a scenario file (``.yaml``,
:mod:`evprice.envs.scenario`), whose config the ``overrides`` then change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evprice.adapters.gymnasium_env import CentralPricingEnv
from evprice.adapters.pettingzoo_env import ParallelMarketEnv
from evprice.adapters.vector import VecMarketEnv
from evprice.core.config import ConfigError
from evprice.envs.registry import make_env, registered_ids

SCENARIO_SUFFIXES = (".yaml", ".yml")


def _batched(env_id: str, num_envs: int, overrides: dict[str, Any]) -> Any:
    """The batched environment of a registered id or a scenario file."""
    if isinstance(env_id, (str, Path)) and Path(env_id).suffix in SCENARIO_SUFFIXES:
        from evprice.envs.scenario import load_scenario

        return load_scenario(env_id).make(num_envs, overrides)
    return make_env(env_id, num_envs, **overrides)


def make(env_id: str = "PublicCharging-v0", *, render_mode: str | None = None, **overrides: Any) -> ParallelMarketEnv:
    """A PettingZoo ``ParallelEnv`` of scenario ``env_id`` with config ``overrides``;
    ``render_mode="rgb_array"``: ``render()`` returns an (H, W, 3) uint8 picture.

    >>> env = make("PublicCharging-v0", n_stations=3, reward="individual")
    >>> obs, infos = env.reset(seed=0)
    """
    if "num_envs" in overrides:  # a config key it is not: say what to use instead of a TypeError
        raise ConfigError(
            f"num_envs={overrides['num_envs']!r} is invalid for make(): the PettingZoo view is one environment; "
            "use make_vec(env_id, num_envs) or make_sb3_vec(env_id, num_envs) for a batch"
        )
    return ParallelMarketEnv(_batched(env_id, 1, overrides), render_mode=render_mode)


def make_vec(
    env_id: str = "PublicCharging-v0", num_envs: int = 1, *, render_mode: str | None = None, **overrides: Any
) -> VecMarketEnv:
    """A batched, auto-resetting view of ``num_envs`` copies of ``env_id``.

    Actions ``(num_envs, n_agents, 1)`` (``(num_envs, n_agents, A)`` under a coordination
    protocol, ``env.action_names``), observations ``(num_envs, n_agents, obs_dim)``;
    ``render_mode="rgb_array"``: ``render()`` pictures member 0.
    """
    return VecMarketEnv(_batched(env_id, num_envs, overrides), render_mode=render_mode)


def make_gym(
    env_id: str = "CoupledNetwork-v0", *, render_mode: str | None = None, **overrides: Any
) -> CentralPricingEnv:
    """A Gymnasium ``Env`` of ``env_id`` with one central agent: action = every station's price
    (currency/kWh), observation = the global state, ``info["cost"]`` the constraint cost.

    >>> env = make_gym("CoupledNetwork-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    """
    if "num_envs" in overrides:
        raise ConfigError(
            f"num_envs={overrides['num_envs']!r} is invalid for make_gym(): the Gymnasium view is one environment "
            "with one central agent; use make_vec(env_id, num_envs) for a batch"
        )
    return CentralPricingEnv(_batched(env_id, 1, overrides), render_mode=render_mode)


def make_sb3_vec(env_id: str = "PublicCharging-v0", num_envs: int = 1, **overrides: Any) -> Any:
    """A Stable-Baselines3 ``VecEnv`` of ``num_envs`` copies of ``env_id``, one sub-environment per
    (copy, station): train one parameter-shared SB3 policy for every station, as PettingZoo's
    tutorials do (:mod:`evprice.adapters.sb3`). Needs ``pip install stable-baselines3``.

    >>> from stable_baselines3 import PPO
    >>> PPO("MlpPolicy", make_sb3_vec("LogitBertrand-v0", 8)).learn(4096)  # doctest: +SKIP
    """
    from evprice.adapters.sb3 import MarketSB3VecEnv  # imports SB3 (and torch) only when asked

    return MarketSB3VecEnv(_batched(env_id, num_envs, overrides))


def make_scenario(path: str | Path, *, render_mode: str | None = None, **overrides: Any) -> ParallelMarketEnv:
    """The PettingZoo ``ParallelEnv`` of the scenario file at ``path`` (``make(path)``; use
    ``make_vec(path, num_envs)`` for a batch), with config ``overrides`` on top.

    >>> env = make_scenario("examples/sioux_falls_20.yaml")  # doctest: +SKIP
    """
    if Path(path).suffix not in SCENARIO_SUFFIXES:
        raise ConfigError(f"scenario {str(path)!r} is invalid: expected the path of a .yaml scenario file")
    return make(str(path), render_mode=render_mode, **overrides)


def list_envs() -> tuple[str, ...]:
    """Registered environment ids."""
    return registered_ids()
