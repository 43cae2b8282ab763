"""The coupling protocol: how a scenario adds a system (a feeder, roads, a leader's commitment,
a tariff, a battery) to the market without subclassing the environment.

One environment class (:class:`evprice.envs.MarketEnv`) is built from a world (the market),
a tuple of couplings, and a reward function (:mod:`evprice.envs.rewards`). A coupling is
made from the environment (``factory(env)``, after the world and its parameters exist,
before the agents and features) and says what it adds:

* **to the agents**: :meth:`Coupling.agents` may amend the station agents (a leader becomes
  a level-2 agent whose action writes its commitment); :attr:`Coupling.station_features`
  names the feature types each station owns in addition to the market's;
* **to the observations**: :meth:`Coupling.features` declares its feature instances, placed
  after the market's and the earlier couplings' (this order is the order of the global state
  and of every observation); :meth:`Coupling.values` gives their values (B, G), columns in
  declared order;
* **to the state**: :meth:`Coupling.reset` starts its part of a new episode (after the
  world's reset); :meth:`Coupling.snapshot` / :meth:`Coupling.restore` give and take its
  state as plain values (arrays, numbers, dicts; frozen by the environment) so that a
  restored environment repeats its trajectory bit for bit;
* **to each period's inputs**: :meth:`Coupling.inputs` may replace the prices in force and
  the drivers' travel times of the period about to run (:class:`PeriodInputs`);
* **to the stations' grid draw**: :meth:`Coupling.grid_draw` may amend the energy the
  stations draw from the grid in each internal step (an on-site battery shaves it); every
  coupling's :meth:`Coupling.after_period` then sees the amended draw;
* **to the costs**: :meth:`Coupling.after_period` reads the period's result
  (:class:`PeriodResult`) and returns its constraint cost (B, N), kept apart from the reward
  (costs of several couplings add up), and its ``info`` entries (by convention one group
  named like the coupling);
* **to the actions and rewards** (the coordination protocols): :meth:`Coupling.agents` may
  give agents more action columns (``AgentSpec.extra_action_fields``) or add an agent (a
  mediator), whose values :meth:`Coupling.inputs` reads from ``PeriodInputs.actions``;
  :meth:`Coupling.rewards` may amend every agent's reward (a deviation penalty, the
  mediator's own reward);
* **to the picture**: :meth:`Coupling.frame` adds fields to the renderer's
  :class:`~evprice.envs.render.MarketFrame`.

Every method has a default that adds nothing, so a coupling writes only what it adds. Each
coupling's ``name`` is unique within an environment: it names its snapshot part and it is
how :meth:`MarketEnv.coupling <evprice.envs.MarketEnv.coupling>` finds it.

Calls, in order: at construction ``factory(env)`` for each coupling, then ``agents``,
``station_features``, ``features``; at ``reset``: the world's reset, then each
``reset(seed)``; at ``step``: each ``inputs`` (in order, each seeing the previous one's
result), the world's period, each ``grid_draw`` (in order), each ``after_period``, the reward
function, each ``rewards`` (in order), then each ``values``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from evprice.core.agents import AgentSpec
from evprice.core.features import Feature
from evprice.market.state import PeriodOutcome

if TYPE_CHECKING:
    from evprice.envs.market_env import MarketEnv


@dataclass(frozen=True)
class PeriodInputs:
    """What drives the period about to run.

    Attributes:
        price_per_kwh: (B, N) prices in force, currency/kWh.
        travel_time_h: (Z, N) or (B, Z, N) travel times from each origin zone to each station,
            hours; None: the market's own (``travel_time_min`` or none).
        actions: (B, N_agents, A) every agent's action in [-1, 1] (clipped), columns as
            :meth:`MarketEnv.action_names <evprice.envs.MarketEnv.action_names>` names them;
            None without a protocol (every action is a price). A protocol's coupling reads its
            columns here (:meth:`MarketEnv.action_column <evprice.envs.MarketEnv.action_column>`).
    """

    price_per_kwh: np.ndarray
    travel_time_h: np.ndarray | None = None
    actions: np.ndarray | None = None


@dataclass(frozen=True)
class PeriodResult:
    """The period just run, as the couplings see it.

    Attributes:
        outcome: the market's outcome (:class:`~evprice.market.state.PeriodOutcome`).
        grid_kwh_per_substep: (B, N, S) energy each station draws from the grid in each
            internal step, kWh: the energy delivered over the charging efficiency, as amended
            by the couplings' :meth:`Coupling.grid_draw`.
    """

    outcome: PeriodOutcome
    grid_kwh_per_substep: np.ndarray


@dataclass(frozen=True)
class CouplingStep:
    """What a coupling reports of the period just run.

    Attributes:
        cost: (B, N) constraint cost, kept apart from the reward; None: none.
        info: entries merged into the step's ``info`` (by convention one group, e.g.
            ``{"grid": {...}}``).
    """

    cost: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)


NO_STEP = CouplingStep()
"""A period that adds no cost and no info."""


class Coupling:
    """Base of a coupling: every method adds nothing; override what the coupling adds.

    Args:
        env: the environment being built: its ``config``, ``params``, ``world`` and
            ``num_envs`` exist; its agents and features do not yet.
    """

    name: ClassVar[str] = "coupling"
    station_features: tuple[str, ...] = ()
    """Feature types (``Feature.name``) that each station owns in addition to the market's."""
    sets_travel_times: ClassVar[bool] = False
    """Whether :meth:`inputs` sets ``travel_time_h`` every period (origin zones need one that does)."""

    def __init__(self, env: MarketEnv) -> None:
        self.env = env

    def agents(self, specs: tuple[AgentSpec, ...]) -> tuple[AgentSpec, ...]:
        """The agents, amended (default: as they are)."""
        return specs

    def features(self) -> tuple[Feature, ...]:
        """Feature instances this coupling declares, after the market's."""
        return ()

    def values(self) -> np.ndarray | None:
        """(B, G) values of :meth:`features`' fields in declared order, float64; None if none."""
        return None

    def reset(self, seed: int | None) -> None:
        """Start this coupling's part of new episodes (the world has been reset)."""

    def inputs(self, inputs: PeriodInputs) -> PeriodInputs:
        """The inputs of the period about to run, amended (default: as they are)."""
        return inputs

    def grid_draw(self, outcome: PeriodOutcome, grid_kwh_per_substep: np.ndarray) -> np.ndarray:
        """(B, N, S) the stations' grid draw in each internal step, kWh, amended (default: as it
        is; return a new array rather than writing into the one given)."""
        return grid_kwh_per_substep

    def after_period(self, period: PeriodResult) -> CouplingStep:
        """Cost and info of the period just run (the world's state is after it)."""
        return NO_STEP

    def rewards(self, reward: np.ndarray, period: PeriodResult, cost: np.ndarray) -> np.ndarray:
        """(B, N_agents) every agent's reward of the period just run, amended (default: as it is;
        return a new array rather than writing into the one given). ``reward`` holds the reward
        function's value for each station and 0 for an agent that is not a station;
        ``cost`` (B, N) is the period's total constraint cost."""
        return reward

    def frame(self, member: int, info: dict[str, Any] | None) -> dict[str, Any]:
        """Extra :class:`~evprice.envs.render.MarketFrame` fields for batch member ``member``
        (``info``: the last step's, None right after reset)."""
        return {}

    def snapshot(self) -> dict[str, Any]:
        """This coupling's state (arrays are copied by the environment when frozen)."""
        return {}

    def restore(self, parts: dict[str, Any]) -> None:
        """Put back a :meth:`snapshot` (its arrays are fresh, writable copies)."""


CouplingFactory = Callable[["MarketEnv"], Coupling]
"""How a scenario names a coupling: a callable taking the environment being built (a
:class:`Coupling` subclass is one)."""
