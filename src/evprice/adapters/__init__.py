"""Views of the batched environments for learning frameworks: PettingZoo Parallel
(``B = 1``) and an auto-resetting vector view (``B > 1``)."""

from evprice.adapters.pettingzoo_env import ParallelMarketEnv
from evprice.adapters.vector import VecMarketEnv

__all__ = ["ParallelMarketEnv", "VecMarketEnv"]
