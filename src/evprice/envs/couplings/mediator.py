"""A mediator as a coupling: an upper-level agent that recommends every station's next price.

With ``protocol="mediator"`` the environment has one more agent after the stations,
``mediator`` (level 2, every station its subordinate), which observes the public features
and every station's ``upper_level`` ones (status and profit window). It owns a public
``MediatorRecommendation`` feature with one field per station (named by the station's id,
currency/kWh, within that station's bounds); its action has one column per station, each
mapped to that station's bounds as a price is. The recommendations it makes in period ``t``
are published once the period has run, so the stations read them when they price
``t + 1``; they are free to ignore them (nothing binds). Before its first recommendation
(and for the first period) each recommendation is the world's initial price, the middle of
the bounds.

The mediator's reward (``mediator_reward``), over the same scale as a team reward (the sum
of the stations' revenue scales): ``profit``, the stations' total profit; ``welfare``, the
consumer surplus plus the booked profit (:mod:`evprice.market.welfare`); ``grid``, minus
the period's constraint cost (a grid-coupled scenario's, the same for every station). The
stations' rewards are the market's, unchanged.

``info["mediator"]``: ``recommended`` (B, N) the recommendations in force for the period
just run, ``gap`` (B, N) posted minus recommended price, and ``next_price`` (B, N) the
recommendations just made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evprice.core.actions import scale_action
from evprice.core.agents import COORDINATOR_LEVEL, AgentSpec
from evprice.core.config import ConfigError
from evprice.core.features import Feature, Field, Visibility
from evprice.envs.coupling import Coupling, CouplingStep, PeriodInputs, PeriodResult
from evprice.market.protocol import MEDIATOR_ID

MEDIATOR_RECOMMENDATION = "MediatorRecommendation"


def recommendation_feature(station_ids: tuple[str, ...], unit: str, low: np.ndarray, high: np.ndarray) -> Feature:
    """The mediator's ``MediatorRecommendation`` (public): each station's recommended price."""
    return Feature(
        name=MEDIATOR_RECOMMENDATION,
        fields=tuple(
            Field(a, unit, float(lo), float(hi), f"the price the mediator recommends to {a} for the coming period")
            for a, lo, hi in zip(station_ids, low, high)
        ),
        visibility=frozenset({Visibility.PUBLIC}),
        owner=MEDIATOR_ID,
    )


class Mediator(Coupling):
    """The mediator: its agent, its recommendations (B, N) and its reward."""

    name = "mediator"

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.objective = env.config.mediator_reward
        self.recommended_per_kwh: np.ndarray | None = None  # (B, N) for the coming period
        self._step: dict[str, np.ndarray] = {}

    def agents(self, specs: tuple[AgentSpec, ...]) -> tuple[AgentSpec, ...]:
        env = self.env
        if self.objective == "grid" and not any(c.name == "grid" for c in env.couplings):
            raise ConfigError(
                f"mediator_reward='grid' is invalid for {env.env_id}: it has no grid coupling, so no grid cost; "
                "use 'profit' or 'welfare', or a grid-coupled scenario (GridCharging-v0, CoupledNetwork-v0)"
            )
        stations = tuple(s.agent_id for s in specs)
        mediator = AgentSpec(
            agent_id=MEDIATOR_ID,
            level=COORDINATOR_LEVEL,
            features=(MEDIATOR_RECOMMENDATION,),
            action_field=(MEDIATOR_RECOMMENDATION, stations[0]),
            action_period_s=env.config.action_period_s,
            subordinates=stations,
            extra_action_fields=tuple((MEDIATOR_RECOMMENDATION, a) for a in stations[1:]),
        )
        return (*specs, mediator)

    def features(self) -> tuple[Feature, ...]:
        p, cfg = self.env.params, self.env.config
        return (recommendation_feature(tuple(cfg.agent_ids), f"{cfg.currency}/kWh", p.price_min, p.price_max),)

    def values(self) -> np.ndarray:
        return self.recommended_per_kwh

    def reset(self, seed: int | None) -> None:
        self.recommended_per_kwh = self.env.world.state.price_per_kwh.copy()
        self._step = {}

    def inputs(self, inputs: PeriodInputs) -> PeriodInputs:
        env, p = self.env, self.env.params
        row = env.n_stations  # the mediator's: the agent after the stations
        made = scale_action(inputs.actions[:, row, : env.n_stations], p.price_min, p.price_max)
        self._step = {
            "recommended": self.recommended_per_kwh,
            "gap": inputs.price_per_kwh - self.recommended_per_kwh,
            "next_price": made,
        }
        self.recommended_per_kwh = made
        return inputs

    def after_period(self, period: PeriodResult) -> CouplingStep:
        return CouplingStep(None, {"mediator": dict(self._step)})

    def rewards(self, reward: np.ndarray, period: PeriodResult, cost: np.ndarray) -> np.ndarray:
        outcome, scale = period.outcome, self.env.params.team_reward_scale_per_period
        if self.objective == "profit":
            value = outcome.profit.sum(axis=1) / scale
        elif self.objective == "welfare":
            value = outcome.social_welfare / scale
        else:
            value = -cost.mean(axis=1)
        out = reward.copy()
        out[:, self.env.n_stations] = value
        return out

    def frame(self, member: int, info: dict[str, Any] | None) -> dict[str, Any]:
        r = self.recommended_per_kwh[member]
        return {"protocol": tuple(f"advised {x:.3f}" for x in r), "target_price_per_kwh": r.copy()}

    def snapshot(self) -> dict[str, Any]:
        return {"recommended": self.recommended_per_kwh, "step": self._step}

    def restore(self, parts: dict[str, Any]) -> None:
        self.recommended_per_kwh = parts["recommended"]
        self._step = parts["step"]
