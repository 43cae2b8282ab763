"""One registry of the environments' reward functions.

A reward function maps the period just run to each station's reward:
``fn(env, outcome, info) -> (B, N) float64``, where ``info`` holds the couplings' entries of
the period (for example ``info["network"]["supply_cost"]``). :func:`reward_name` resolves a
config to its entry: the ``objective`` when it is not ``"profit"``, else the ``reward``
(how profit is shared and when it is counted). The entries:

``team``, ``individual``, ``period``, ``ema``
    profit, as in :mod:`evprice.market.reward`;
``social_welfare``
    consumer surplus plus booked profit, every station's reward (:mod:`evprice.market.welfare`);
``revenue_minus_supply_cost``
    document 2's welfare: the stations' revenue minus the tiered cost of supplying their draw
    (``info["network"]["supply_cost"]``, from the supply-tariff coupling of
    :mod:`evprice.envs.couplings.tariff`), every station's reward, over the sum of the
    stations' revenue scales.

A new objective is one :func:`register_reward` call; a scenario that offers it lists it in its
config's ``ALLOWED_OBJECTIVES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from evprice.core.config import ConfigError
from evprice.market.reward import compute_reward, every_station
from evprice.market.state import PeriodOutcome

if TYPE_CHECKING:
    from evprice.envs.market_env import MarketEnv

RewardFn = Callable[["MarketEnv", PeriodOutcome, Mapping[str, Any]], np.ndarray]

_REWARDS: dict[str, RewardFn] = {}


def register_reward(name: str, fn: RewardFn) -> None:
    """Add reward function ``fn`` under ``name`` (unique)."""
    if name in _REWARDS:
        raise ValueError(f"reward {name!r} is already registered")
    _REWARDS[name] = fn


def reward_names() -> tuple[str, ...]:
    return tuple(_REWARDS)


def reward_name(config: Any) -> str:
    """The registry entry a config selects: its ``objective`` unless that is ``"profit"``, else
    its ``reward``."""
    return config.reward if config.objective == "profit" else config.objective


def reward_function(name: str) -> RewardFn:
    try:
        return _REWARDS[name]
    except KeyError:
        raise ConfigError(f"unknown reward {name!r}: expected one of {list(_REWARDS)}") from None


def _market_reward(env: MarketEnv, outcome: PeriodOutcome, info: Mapping[str, Any]) -> np.ndarray:
    return compute_reward(env.params, outcome, env.world.state)


def _revenue_minus_supply_cost(env: MarketEnv, outcome: PeriodOutcome, info: Mapping[str, Any]) -> np.ndarray:
    if "network" not in info or "supply_cost" not in info["network"]:
        raise ConfigError(
            f"objective='revenue_minus_supply_cost' needs the supply-tariff coupling, which {env.env_id} does not have"
        )
    net = outcome.revenue.sum(axis=1) - info["network"]["supply_cost"]
    return every_station(net / env.params.team_reward_scale_per_period, env.n_agents)


for _name in ("team", "individual", "period", "ema", "social_welfare"):
    register_reward(_name, _market_reward)
register_reward("revenue_minus_supply_cost", _revenue_minus_supply_cost)
