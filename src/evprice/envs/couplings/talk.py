"""Cheap talk as a coupling: each station's action carries a message the others read next period.

With ``protocol="cheap_talk"`` each station owns a public ``StationMessage`` feature of
``message_dim`` fields ``m0, m1, ...`` in [-1, 1], and its action has one more column per
field, after its price (``env.action_names``). The message a station sends with its price
of period ``t`` is published once the period has run, so every station reads it in the
observation it prices period ``t + 1`` from: sent in ``t``, seen in ``t + 1``. Before the
first message every field is 0. With ``n_symbols = k >= 2`` each value is one of ``k``
levels (:func:`evprice.market.protocol.quantise_message`). Messages cost nothing and bind
nothing: they change no price, no reward and no cost.

``info["talk"]["message"]`` (B, N, message_dim) holds the messages just sent.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evprice.core.agents import AgentSpec, with_action_fields
from evprice.core.features import Feature, Field, Visibility
from evprice.envs.coupling import Coupling, CouplingStep, PeriodInputs, PeriodResult
from evprice.market.protocol import quantise_message

STATION_MESSAGE = "StationMessage"


def message_feature(agent_id: str, message_dim: int, n_symbols: int) -> Feature:
    """A station's ``StationMessage`` (public): its last message, ``message_dim`` values."""
    what = "continuous" if n_symbols == 0 else f"one of {n_symbols} levels"
    return Feature(
        name=STATION_MESSAGE,
        fields=tuple(
            Field(f"m{k}", "1", -1.0, 1.0, f"value {k} of the station's last message ({what}); 0 before its first")
            for k in range(message_dim)
        ),
        visibility=frozenset({Visibility.PUBLIC}),
        owner=agent_id,
    )


class CheapTalk(Coupling):
    """Each station's last message: its state (B, N, message_dim), features and action columns."""

    name = "talk"
    station_features = (STATION_MESSAGE,)

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.message_dim = int(env.config.message_dim)
        self.n_symbols = int(env.config.n_symbols)
        self.message = np.zeros((env.num_envs, len(env.config.agent_ids), self.message_dim))

    def agents(self, specs: tuple[AgentSpec, ...]) -> tuple[AgentSpec, ...]:
        fields = tuple((STATION_MESSAGE, f"m{k}") for k in range(self.message_dim))
        return with_action_fields(specs, set(self.env.config.agent_ids), fields)

    def features(self) -> tuple[Feature, ...]:
        return tuple(message_feature(a, self.message_dim, self.n_symbols) for a in self.env.config.agent_ids)

    def values(self) -> np.ndarray:
        return self.message.reshape(self.message.shape[0], -1)

    def reset(self, seed: int | None) -> None:
        self.message = np.zeros_like(self.message)

    def inputs(self, inputs: PeriodInputs) -> PeriodInputs:
        env = self.env
        first = env.action_column(env.station_ids[0], STATION_MESSAGE, "m0")
        sent = inputs.actions[:, : env.n_stations, first : first + self.message_dim]
        self.message = quantise_message(sent, self.n_symbols).astype(np.float64)  # published after the period
        return inputs

    def after_period(self, period: PeriodResult) -> CouplingStep:
        return CouplingStep(None, {"talk": {"message": self.message.copy()}})

    def frame(self, member: int, info: dict[str, Any] | None) -> dict[str, Any]:
        return {"protocol": tuple("msg " + " ".join(f"{v:+.2f}" for v in m) for m in self.message[member])}

    def snapshot(self) -> dict[str, Any]:
        return {"message": self.message}

    def restore(self, parts: dict[str, Any]) -> None:
        self.message = parts["message"]
