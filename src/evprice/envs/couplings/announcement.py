"""Price announcements as a coupling: each station announces its next price; the posted one may differ.

With ``protocol="announcement"`` each station owns a public ``PriceAnnouncement`` feature,
``next_price`` (currency/kWh, within its price bounds), and its action has one more column,
after its price: the price it announces for the next period (mapped to its bounds as a
price is). The announcement made with the price of period ``t`` is published once the
period has run, so every station reads it when it prices period ``t + 1``; then the
announcing station posts whatever its price column says. Posting ``p`` after announcing
``a`` costs ``deviation_cost * |p - a| / (price_max - price_min)`` of that period's reward
(:func:`evprice.market.protocol.deviation_penalty`; 0 by default: cheap, non-binding
announcements). Before the first announcement (and for the first period) the announced
price is the world's initial price, the middle of the bounds, as if announced before the
episode.

``info["announce"]``: ``announced`` (B, N) the price each station had announced for the
period just run, ``deviation`` (B, N) currency/kWh posted minus announced, ``penalty``
(B, N) the reward it cost, and ``next_price`` (B, N) the announcements just made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evprice.core.actions import scale_action
from evprice.core.agents import AgentSpec, with_action_fields
from evprice.core.features import Feature, Field, Visibility
from evprice.envs.coupling import Coupling, CouplingStep, PeriodInputs, PeriodResult
from evprice.market.protocol import deviation_penalty

PRICE_ANNOUNCEMENT = "PriceAnnouncement"


def announcement_feature(agent_id: str, unit: str, low: float, high: float) -> Feature:
    """A station's ``PriceAnnouncement`` (public): the price it announced for the coming period."""
    return Feature(
        name=PRICE_ANNOUNCEMENT,
        fields=(Field("next_price", unit, low, high, "the price the station announced for the coming period"),),
        visibility=frozenset({Visibility.PUBLIC}),
        owner=agent_id,
    )


class PriceAnnouncements(Coupling):
    """The stations' announced prices (B, N), their features, their action column and the penalty."""

    name = "announce"
    station_features = (PRICE_ANNOUNCEMENT,)

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.cost = float(env.config.deviation_cost)
        self.announced_per_kwh: np.ndarray | None = None  # (B, N) for the coming period
        self._step: dict[str, np.ndarray] = {}

    def agents(self, specs: tuple[AgentSpec, ...]) -> tuple[AgentSpec, ...]:
        return with_action_fields(specs, set(self.env.config.agent_ids), ((PRICE_ANNOUNCEMENT, "next_price"),))

    def features(self) -> tuple[Feature, ...]:
        p, unit = self.env.params, f"{self.env.config.currency}/kWh"
        return tuple(
            announcement_feature(a, unit, float(lo), float(hi))
            for a, lo, hi in zip(self.env.config.agent_ids, p.price_min, p.price_max)
        )

    def values(self) -> np.ndarray:
        return self.announced_per_kwh

    def reset(self, seed: int | None) -> None:
        self.announced_per_kwh = self.env.world.state.price_per_kwh.copy()  # as if announced before the episode
        self._step = {}

    def inputs(self, inputs: PeriodInputs) -> PeriodInputs:
        env = self.env
        column = env.action_column(env.station_ids[0], PRICE_ANNOUNCEMENT, "next_price")
        p = env.params
        posted, announced = inputs.price_per_kwh, self.announced_per_kwh
        self._step = {
            "announced": announced,
            "deviation": posted - announced,
            "penalty": deviation_penalty(posted, announced, p.price_min, p.price_max, self.cost),
        }
        self.announced_per_kwh = scale_action(inputs.actions[:, : env.n_stations, column], p.price_min, p.price_max)
        self._step["next_price"] = self.announced_per_kwh
        return inputs

    def after_period(self, period: PeriodResult) -> CouplingStep:
        return CouplingStep(None, {"announce": dict(self._step)})

    def rewards(self, reward: np.ndarray, period: PeriodResult, cost: np.ndarray) -> np.ndarray:
        if self.cost == 0.0:
            return reward
        out = reward.copy()
        out[:, : self.env.n_stations] -= self._step["penalty"]
        return out

    def frame(self, member: int, info: dict[str, Any] | None) -> dict[str, Any]:
        a = self.announced_per_kwh[member]
        return {"protocol": tuple(f"announces {x:.3f}" for x in a), "target_price_per_kwh": a.copy()}

    def snapshot(self) -> dict[str, Any]:
        return {"announced": self.announced_per_kwh, "step": self._step}

    def restore(self, parts: dict[str, Any]) -> None:
        self.announced_per_kwh = parts["announced"]
        self._step = parts["step"]
