"""The Stackelberg leader's commitment as a coupling.

With ``config.leader`` set, the leader moves first: its action at period ``t`` is a
commitment to its price of period ``t + 1``, published at once in its public
``LeaderCommitment.next_price`` feature, so the followers see the leader's price before
they set theirs (:func:`evprice.market.dynamics.leader_prices`). Its price in the first
period is the middle of its bounds (the world's initial price). The leader is a level-2
agent whose subordinates are the followers: it also reads their ``upper_level`` features
(status and profit windows).

:class:`~evprice.envs.MarketEnv` adds this coupling first whenever the config names a
leader, so its feature comes right after the market's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from evprice.core.agents import COORDINATOR_LEVEL, AgentSpec
from evprice.core.features import Feature
from evprice.envs.coupling import Coupling, PeriodInputs
from evprice.market.dynamics import leader_prices
from evprice.market.features import LEADER_COMMITMENT, leader_commitment_feature


class LeaderCommitment(Coupling):
    """The leader's price for the coming period: its state (B,), its feature, its move order."""

    name = "leader"

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.leader = env.config.leader_index
        if self.leader is None:
            raise ValueError("LeaderCommitment needs a config with a leader (config.leader is None)")
        self.commitment_per_kwh: np.ndarray | None = None  # (B,) the leader's price for the coming period

    def agents(self, specs: tuple[AgentSpec, ...]) -> tuple[AgentSpec, ...]:
        leader_id = self.env.config.leader
        out = []
        for spec in specs:
            if spec.agent_id == leader_id:
                spec = replace(
                    spec,
                    level=COORDINATOR_LEVEL,
                    features=(*spec.features, LEADER_COMMITMENT),
                    action_field=(LEADER_COMMITMENT, "next_price"),
                    subordinates=tuple(s.agent_id for s in specs if s.agent_id != leader_id),
                )
            out.append(spec)
        return tuple(out)

    def features(self) -> tuple[Feature, ...]:
        return (leader_commitment_feature(self.env.config),)

    def values(self) -> np.ndarray:
        return self.commitment_per_kwh.reshape(-1, 1)

    def reset(self, seed: int | None) -> None:
        # the first period's price, as if committed before the episode
        self.commitment_per_kwh = self.env.world.state.price_per_kwh[:, self.leader].copy()

    def inputs(self, inputs: PeriodInputs) -> PeriodInputs:
        in_force, self.commitment_per_kwh = leader_prices(inputs.price_per_kwh, self.commitment_per_kwh, self.leader)
        return replace(inputs, price_per_kwh=in_force)

    def snapshot(self) -> dict[str, Any]:
        return {"commitment": self.commitment_per_kwh}

    def restore(self, parts: dict[str, Any]) -> None:
        self.commitment_per_kwh = parts["commitment"]
