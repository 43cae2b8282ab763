"""The couplings a scenario composes onto the market (:mod:`evprice.envs.coupling` is the
protocol): the Stackelberg leader's commitment, the distribution feeder, the road network,
the supply tariff, an on-site battery (the worked example of docs/architecture.md), and the
coordination protocols: cheap talk, price announcements and a mediator."""

from evprice.envs.couplings.announcement import PriceAnnouncements
from evprice.envs.couplings.battery import Battery
from evprice.envs.couplings.grid import GridCoupling
from evprice.envs.couplings.leader import LeaderCommitment
from evprice.envs.couplings.mediator import Mediator
from evprice.envs.couplings.roads import RoadCoupling
from evprice.envs.couplings.talk import CheapTalk
from evprice.envs.couplings.tariff import SupplyTariff

__all__ = [
    "Battery",
    "CheapTalk",
    "GridCoupling",
    "LeaderCommitment",
    "Mediator",
    "PriceAnnouncements",
    "RoadCoupling",
    "SupplyTariff",
]
