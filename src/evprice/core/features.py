"""Features: named groups of fields, each with a unit, bounds and a visibility set.

In the feature -> agent -> world style, *all* environment state an agent can observe is
expressed as features. A feature is owned either by the world (``owner=None``: exogenous
signals such as the wholesale price) or by one agent (a station's price and occupancy).
Who may read a feature is declared by its visibility set:

``public``
    every agent.
``owner``
    the agent that owns it.
``upper_level``
    an agent of a higher level whose subordinates include the owner (a coordinator or a
    Stackelberg leader); for a world-owned feature (the feeder's line loadings), any
    agent above the station level.
``system``
    nobody but the simulator, its logs and the global state (centralised critics).

Visibility is checked in :mod:`evprice.core.observation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum


class Visibility(str, Enum):
    """Who may observe a feature."""

    PUBLIC = "public"
    OWNER = "owner"
    UPPER_LEVEL = "upper_level"
    SYSTEM = "system"


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"{kind} name {name!r} is invalid: expected a Python identifier")


@dataclass(frozen=True)
class Field:
    """One scalar field of a feature.

    Attributes:
        name: identifier, unique within its feature (``"price"``).
        unit: unit of the value (``"CNY/kWh"``, ``"1"`` for dimensionless).
        low, high: bounds of the value; the observation space uses them, so the world
            must keep the value inside them.
        description: one line for docs and ``observation_names``-based tooling.
    """

    name: str
    unit: str
    low: float
    high: float
    description: str = ""

    def __post_init__(self) -> None:
        _check_name("field", self.name)
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low > self.high:
            raise ValueError(
                f"field {self.name!r}: bounds [{self.low}, {self.high}] are invalid: expected finite low <= high"
            )


@dataclass(frozen=True)
class Feature:
    """A named group of fields, owned by the world (``owner=None``) or by one agent.

    ``key`` identifies the instance: ``"PublicMarketSignal"`` for a world feature,
    ``"station_1.ChargingStationStatus"`` for an agent's.
    """

    name: str
    fields: tuple[Field, ...]
    visibility: frozenset[Visibility]
    owner: str | None = None

    def __post_init__(self) -> None:
        _check_name("feature", self.name)
        if not self.fields:
            raise ValueError(f"feature {self.name!r} has no fields")
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"feature {self.name!r} has duplicate field names: {names}")
        vis = frozenset(Visibility(v) for v in self.visibility)
        if not vis:
            raise ValueError(f"feature {self.name!r} has an empty visibility set")
        if self.owner is None and Visibility.OWNER in vis:
            raise ValueError(f"feature {self.name!r} is owned by the world and cannot have 'owner' visibility")
        object.__setattr__(self, "visibility", vis)

    @property
    def key(self) -> str:
        return self.name if self.owner is None else f"{self.owner}.{self.name}"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"feature {self.key!r} has no field {name!r}; fields: {', '.join(self.field_names)}")
