"""The public charging world: config, arrivals, driver choice, charging sessions,
economics (revenue, energy cost, fixed cost, profit EMAs), rewards and features.

Everything is batched over a leading axis ``B``; a single environment is ``B = 1``."""

from evprice.market.config import MarketConfig
from evprice.market.params import MarketParams
from evprice.market.state import MarketState, PeriodDraws, PeriodOutcome
from evprice.market.world import MarketWorld

__all__ = ["MarketConfig", "MarketParams", "MarketState", "MarketWorld", "PeriodDraws", "PeriodOutcome"]
