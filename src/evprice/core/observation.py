"""Observation assembly by visibility.

The world exposes the value of every feature field as one flat *state vector*, laid out in
the declared order of the features (the system view, used as the global state of a
centralised critic). Each agent's observation is a fixed selection of that vector, chosen
by the visibility rules of :mod:`evprice.core.features` and ordered in three groups:

1. world features the agent may see (``PublicMarketSignal``), in declared order; a world
   feature appears once, never once per station;
2. the agent's own features, in declared order;
3. other agents' features it may see (``public`` ones, or ``upper_level`` ones of its
   subordinates), in declared order.

Putting the agent's own features at the same positions for every agent is what lets one
shared policy network serve all stations. The layout is the declared order, never
alphabetical, and ``observation_names(agent)`` says exactly what each column is.

Agents of different levels see different amounts (a Stackelberg leader of level 2 also
reads its followers' ``upper_level`` features). A batched environment needs one
observation size, so :meth:`ObservationLayout.stacked_index` can pad the shorter
observations at their end with zeros (:data:`PAD_NAME` columns, bounds ``[0, 0]``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evprice.core.agents import STATION_LEVEL, AgentSpec
from evprice.core.features import Feature, Visibility

ObsName = tuple[str, str]
"""``(feature key, field name)``, e.g. ``("station_1.ChargingStationStatus", "price")``."""
PAD_NAME: ObsName = ("padding", "zero")
"""Name of a padding column: always 0, bounds ``[0, 0]``."""


def can_observe(agent: AgentSpec, feature: Feature, owner: AgentSpec | None) -> bool:
    """Whether ``agent`` may read ``feature`` (owned by ``owner``; ``None`` = the world)."""
    vis = feature.visibility
    if Visibility.PUBLIC in vis:
        return True
    if owner is None:  # a world feature: upper_level ones are for agents above the stations
        return Visibility.UPPER_LEVEL in vis and agent.level > STATION_LEVEL
    if owner.agent_id == agent.agent_id:
        return Visibility.OWNER in vis
    return Visibility.UPPER_LEVEL in vis and owner.agent_id in agent.subordinates and agent.level > owner.level


class ObservationLayout:
    """Where each agent's observation comes from in the state vector.

    Args:
        features: every feature instance, in declared order.
        agents: every agent; owners and subordinates must be among them.
    """

    def __init__(self, features: Sequence[Feature], agents: Sequence[AgentSpec]) -> None:
        self.features: tuple[Feature, ...] = tuple(features)
        self.agents: tuple[AgentSpec, ...] = tuple(agents)
        self._agents = {a.agent_id: a for a in self.agents}
        if len(self._agents) != len(self.agents):
            raise ValueError(f"agent ids must be unique, got {[a.agent_id for a in self.agents]}")
        keys = [f.key for f in self.features]
        if len(set(keys)) != len(keys):
            raise ValueError(f"feature keys must be unique, got {keys}")
        self._validate_ownership()

        self._offset: dict[str, int] = {}
        names: list[ObsName] = []
        lows: list[float] = []
        highs: list[float] = []
        for feature in self.features:
            self._offset[feature.key] = len(names)
            for fld in feature.fields:
                names.append((feature.key, fld.name))
                lows.append(fld.low)
                highs.append(fld.high)
        self._state_names = tuple(names)
        self._state_low = np.asarray(lows, dtype=np.float64)
        self._state_high = np.asarray(highs, dtype=np.float64)
        self._observed = {a.agent_id: self._observed_features(a) for a in self.agents}
        self._index = {
            agent_id: np.asarray([self._offset[f.key] + i for f in feats for i in range(len(f.fields))], dtype=np.intp)
            for agent_id, feats in self._observed.items()
        }

    def _validate_ownership(self) -> None:
        for feature in self.features:
            if feature.owner is None:
                continue
            owner = self._agents.get(feature.owner)
            if owner is None:
                raise ValueError(f"feature {feature.key!r} is owned by unknown agent {feature.owner!r}")
            if feature.name not in owner.features:
                raise ValueError(
                    f"feature {feature.key!r}: agent {owner.agent_id!r} does not declare it "
                    f"among its features {list(owner.features)}"
                )
        for agent in self.agents:
            owned = {f.name for f in self.features if f.owner == agent.agent_id}
            missing = [name for name in agent.features if name not in owned]
            if missing:
                raise ValueError(
                    f"agent {agent.agent_id!r} declares features {missing} that no feature instance provides"
                )
            for sub in agent.subordinates:
                if sub not in self._agents:
                    raise ValueError(f"agent {agent.agent_id!r} has unknown subordinate {sub!r}")
                if self._agents[sub].level >= agent.level:
                    raise ValueError(
                        f"agent {agent.agent_id!r} (level {agent.level}) cannot have subordinate {sub!r} "
                        f"of level {self._agents[sub].level}"
                    )

    def _observed_features(self, agent: AgentSpec) -> tuple[Feature, ...]:
        world, own, others = [], [], []
        for feature in self.features:
            owner = None if feature.owner is None else self._agents[feature.owner]
            if not can_observe(agent, feature, owner):
                continue
            if owner is None:
                world.append(feature)
            elif owner.agent_id == agent.agent_id:
                own.append(feature)
            else:
                others.append(feature)
        return tuple(world + own + others)

    # -- queries -----------------------------------------------------------------------
    def _agent(self, agent_id: str) -> AgentSpec:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise KeyError(f"unknown agent {agent_id!r}; agents: {', '.join(self._agents)}") from None

    @property
    def state_names(self) -> tuple[ObsName, ...]:
        """Every field of every feature, in declared order (the system view)."""
        return self._state_names

    @property
    def state_size(self) -> int:
        return len(self._state_names)

    @property
    def state_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` of the state vector, shape ``(state_size,)``."""
        return self._state_low.copy(), self._state_high.copy()

    def feature_offset(self, key: str) -> int:
        """Index of the first field of feature ``key`` in the state vector."""
        return self._offset[key]

    def observed_features(self, agent_id: str) -> tuple[Feature, ...]:
        return self._observed[self._agent(agent_id).agent_id]

    def observation_names(self, agent_id: str) -> tuple[ObsName, ...]:
        """Ordered ``(feature key, field)`` names of ``agent_id``'s observation columns."""
        return tuple(self._state_names[i] for i in self.observation_index(agent_id))

    def observation_index(self, agent_id: str) -> np.ndarray:
        """Indices into the state vector, shape ``(obs_dim,)``."""
        return self._index[self._agent(agent_id).agent_id].copy()

    def observation_bounds(self, agent_id: str) -> tuple[np.ndarray, np.ndarray]:
        idx = self.observation_index(agent_id)
        return self._state_low[idx], self._state_high[idx]

    def stacked_index(self, agent_ids: Sequence[str], pad: bool = False) -> np.ndarray:
        """Index matrix ``(n_agents, obs_dim)`` for a batched gather.

        ``state[:, stacked_index]`` turns a ``(B, state_size)`` state into
        ``(B, n_agents, obs_dim)`` observations. Without ``pad`` all listed agents must have
        the same observation size. With ``pad``, ``obs_dim`` is the largest size and the
        shorter rows end with the index ``state_size``: gather from the state with one
        column of zeros appended (:meth:`padded_state`).
        """
        rows = [self.observation_index(a) for a in agent_ids]
        sizes = {len(r) for r in rows}
        if len(sizes) != 1 and not pad:
            raise ValueError(f"agents {list(agent_ids)} have different observation sizes {sorted(sizes)}")
        width = max(sizes)
        return np.stack([np.pad(r, (0, width - len(r)), constant_values=self.state_size) for r in rows])

    def padded_state(self, state: np.ndarray) -> np.ndarray:
        """``state`` (B, state_size) with a column of zeros appended (B, state_size + 1), for
        gathering with a padded :meth:`stacked_index`."""
        return np.concatenate([state, np.zeros(state.shape[:-1] + (1,), dtype=state.dtype)], axis=-1)
