"""Registered scenarios: each id composes the layers below (core, market) into a batched
multi-agent environment. Importing this package registers them."""

from evprice.envs import coupled_network, grid_charging, logit_bertrand, public_charging  # noqa: F401  (register their ids)
from evprice.envs.market_env import MARKET_INFO_KEYS, STATION_INFO_KEYS, MarketEnv
from evprice.envs.registry import EnvSpec, make_env, register, registered_ids, spec

__all__ = [
    "EnvSpec",
    "MARKET_INFO_KEYS",
    "MarketEnv",
    "STATION_INFO_KEYS",
    "make_env",
    "register",
    "registered_ids",
    "spec",
]
