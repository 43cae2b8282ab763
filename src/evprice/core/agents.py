"""Agent specs: who acts, on which owned field, and how often.

Agents do not own the environment; they own features. An agent's action writes fields of
features it owns, once every ``action_period_s`` seconds of simulated time: its main field
(a station writes ``ChargingStationStatus.price``) and, under a coordination protocol, more
(a message, an announced price, a mediator's recommendations). Its action has one column
per field, in that order (:attr:`AgentSpec.action_fields`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

STATION_LEVEL = 1
COORDINATOR_LEVEL = 2


@dataclass(frozen=True)
class AgentSpec:
    """One agent.

    Attributes:
        agent_id: unique id (``"station_1"``).
        level: 1 for a station (field level); 2 for an upper-level coordinator or a
            Stackelberg leader, which may read its subordinates' ``upper_level`` features.
        features: names of the features this agent owns (``("ChargingStationStatus", ...)``).
        action_field: ``(feature name, field name)`` its action writes, or ``None`` for an
            agent that only observes.
        extra_action_fields: further ``(feature name, field name)`` its action writes, after
            ``action_field`` (a protocol's message parts); empty without a protocol.
        action_period_s: simulated seconds between two decisions.
        subordinates: ids of the lower-level agents whose ``upper_level`` features it sees.
    """

    agent_id: str
    level: int
    features: tuple[str, ...]
    action_field: tuple[str, str] | None
    action_period_s: int
    subordinates: tuple[str, ...] = ()
    extra_action_fields: tuple[tuple[str, str], ...] = ()

    @property
    def action_fields(self) -> tuple[tuple[str, str], ...]:
        """Every field its action writes, one action column each, in column order."""
        return () if self.action_field is None else (self.action_field, *self.extra_action_fields)

    def __post_init__(self) -> None:
        if not isinstance(self.agent_id, str) or not self.agent_id:
            raise ValueError(f"agent_id={self.agent_id!r} is invalid: expected a non-empty string")
        if self.level not in (STATION_LEVEL, COORDINATOR_LEVEL):
            raise ValueError(
                f"agent {self.agent_id!r}: level={self.level!r} is invalid: expected "
                f"{STATION_LEVEL} (station) or {COORDINATOR_LEVEL} (coordinator)"
            )
        if (
            isinstance(self.action_period_s, bool)
            or not isinstance(self.action_period_s, int)
            or self.action_period_s <= 0
        ):
            raise ValueError(
                f"agent {self.agent_id!r}: action_period_s={self.action_period_s!r} is invalid: "
                "expected a positive integer number of seconds"
            )
        if self.action_field is not None and self.action_field[0] not in self.features:
            raise ValueError(
                f"agent {self.agent_id!r}: its action writes {self.action_field[0]}.{self.action_field[1]}, "
                f"but it owns only {list(self.features)}"
            )
        if self.extra_action_fields and self.action_field is None:
            raise ValueError(f"agent {self.agent_id!r}: extra action fields need an action_field")
        for feature, field in self.extra_action_fields:
            if feature not in self.features:
                raise ValueError(
                    f"agent {self.agent_id!r}: its action writes {feature}.{field}, "
                    f"but it owns only {list(self.features)}"
                )
        if len(set(self.action_fields)) != len(self.action_fields):
            raise ValueError(f"agent {self.agent_id!r}: its action writes a field twice: {list(self.action_fields)}")
        if self.agent_id in self.subordinates:
            raise ValueError(f"agent {self.agent_id!r} cannot be its own subordinate")
        if self.subordinates and self.level == STATION_LEVEL:
            raise ValueError(f"agent {self.agent_id!r}: a level-1 agent cannot have subordinates")


def with_action_fields(
    specs: tuple[AgentSpec, ...], agent_ids: Collection[str], fields: tuple[tuple[str, str], ...]
) -> tuple[AgentSpec, ...]:
    """``specs`` with ``fields`` appended to the action of every agent in ``agent_ids`` (a
    protocol's message columns), the others as they are."""
    return tuple(
        replace(s, extra_action_fields=(*s.extra_action_fields, *fields)) if s.agent_id in agent_ids else s
        for s in specs
    )
