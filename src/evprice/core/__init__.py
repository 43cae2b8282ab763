"""The feature -> agent -> world abstraction: features with units, bounds and visibility,
agent specs, observation assembly by visibility, action scaling, config validation and
seeded random streams. ``core`` imports nothing else of ``evprice``."""

from evprice.core.actions import ActionError, check_actions, scale_action, unscale_action
from evprice.core.agents import COORDINATOR_LEVEL, STATION_LEVEL, AgentSpec
from evprice.core.config import ConfigError
from evprice.core.features import Feature, Field, Visibility
from evprice.core.observation import ObservationLayout, ObsName, can_observe
from evprice.core.rng import spawn_streams

__all__ = [
    "ActionError",
    "AgentSpec",
    "COORDINATOR_LEVEL",
    "ConfigError",
    "Feature",
    "Field",
    "ObsName",
    "ObservationLayout",
    "STATION_LEVEL",
    "Visibility",
    "can_observe",
    "check_actions",
    "scale_action",
    "spawn_streams",
    "unscale_action",
]
