"""The coordination protocols' couplings by ``config.protocol`` (:mod:`evprice.market.protocol`
describes them): :class:`~evprice.envs.MarketEnv` adds the one the config names, after the
scenario's own couplings."""

from __future__ import annotations

from evprice.envs.couplings.announcement import PriceAnnouncements
from evprice.envs.couplings.mediator import Mediator
from evprice.envs.couplings.talk import CheapTalk

PROTOCOL_COUPLINGS = {"cheap_talk": CheapTalk, "announcement": PriceAnnouncements, "mediator": Mediator}
"""``config.protocol`` -> its coupling (``"none"`` has none)."""
