"""The couplings a scenario composes onto the market (:mod:`evprice.envs.coupling` is the
protocol): the Stackelberg leader's commitment, the distribution feeder, the road network,
the supply tariff, and an on-site battery (the worked example of docs/architecture.md)."""

from evprice.envs.couplings.battery import Battery
from evprice.envs.couplings.grid import GridCoupling
from evprice.envs.couplings.leader import LeaderCommitment
from evprice.envs.couplings.roads import RoadCoupling
from evprice.envs.couplings.tariff import SupplyTariff

__all__ = ["Battery", "GridCoupling", "LeaderCommitment", "RoadCoupling", "SupplyTariff"]
