"""``PublicCharging-v0``: the HERON public charging market with the built-in defaults."""

from __future__ import annotations

from evprice.envs.registry import EnvSpec, register
from evprice.market.config import MarketConfig

register(
    EnvSpec(
        env_id="PublicCharging-v0",
        description="public charging market: stations price every 15 min, drivers choose by price and congestion",
        config_cls=MarketConfig,
    )
)
