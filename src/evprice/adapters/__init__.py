"""Views of the batched environments for learning frameworks: PettingZoo Parallel
(``B = 1``), an auto-resetting vector view (``B > 1``) and a Gymnasium view with one
central agent."""

from evprice.adapters.gymnasium_env import CentralPricingEnv
from evprice.adapters.pettingzoo_env import ParallelMarketEnv
from evprice.adapters.vector import VecMarketEnv

__all__ = ["CentralPricingEnv", "ParallelMarketEnv", "VecMarketEnv"]
