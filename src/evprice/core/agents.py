"""Agent specs: who acts, on which owned field, and how often.

Agents do not own the environment; they own features. An agent's action writes exactly one
field of one feature it owns (a station writes ``ChargingStationStatus.price``), once every
``action_period_s`` seconds of simulated time.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        action_period_s: simulated seconds between two decisions.
        subordinates: ids of the lower-level agents whose ``upper_level`` features it sees.
    """

    agent_id: str
    level: int
    features: tuple[str, ...]
    action_field: tuple[str, str] | None
    action_period_s: int
    subordinates: tuple[str, ...] = ()

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
        if self.agent_id in self.subordinates:
            raise ValueError(f"agent {self.agent_id!r} cannot be its own subordinate")
        if self.subordinates and self.level == STATION_LEVEL:
            raise ValueError(f"agent {self.agent_id!r}: a level-1 agent cannot have subordinates")
