"""``MarketEnv``: the charging market as a batched multi-agent environment.

This is where a scenario is assembled: station agents (``evprice.core``) own the market's
features (``evprice.market.features``); their actions write the price field; the world
(``evprice.market.world``) owns the dynamics; observations are gathered from the feature
values by each agent's visibility; rewards come from ``evprice.market.reward``.

Arrays only, no framework: the PettingZoo adapter is a ``num_envs = 1`` view of it and the
vector adapter adds auto-reset. Shapes: ``B = num_envs``, ``N`` agents, ``D`` observation
size, ``F`` state size.

A scenario composes it: one environment class built from the world, a tuple of couplings
(:mod:`evprice.envs.coupling` is the protocol; :mod:`evprice.envs.couplings` has the
feeder, the roads, the supply tariff and the leader's commitment) and a reward function
from one registry (:mod:`evprice.envs.rewards`). Couplings add agents' features, state,
each period's inputs (prices in force, travel times), constraint costs, ``info`` groups and
observation columns; adding a system adds a coupling, not a subclass.

Move order: by default every station's action sets its price for the period that is about
to run, all at once. With a Stackelberg leader (``config.leader``) the leader moves first
(:mod:`evprice.envs.couplings.leader`, added whenever the config names one): its action at
period ``t`` is a commitment to its price of period ``t + 1``, which the followers see
before they set theirs. Observations of different sizes are padded with zeros at their end
to one size ``D`` (:data:`evprice.core.observation.PAD_NAME` columns).

Coordination protocols (``config.protocol``, :mod:`evprice.market.protocol`): the protocol's
coupling is added last; it gives the stations more action columns (a message, an announced
price) or adds an agent after the stations (a mediator). Actions are then (B, N, A), each
agent's columns named by :meth:`MarketEnv.action_names`; rewards (B, N) cover every agent and
``info``'s per-station entries stay (B, N_stations). Without one, actions are (B, N, 1) and the
agents are the stations.

Rendering: with ``render_mode="rgb_array"`` (constructor argument, or set the attribute on a
built env), :meth:`MarketEnv.render` returns an ``(H, W, 3)`` ``uint8`` picture of batch member
0 (:mod:`evprice.envs.render`); ``render_mode=None`` (the default) renders nothing.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from evprice.core.actions import check_actions, scale_action, unscale_action
from evprice.core.agents import STATION_LEVEL, AgentSpec
from evprice.core.config import ConfigError
from evprice.core.observation import PAD_NAME, ObservationLayout, ObsName
from evprice.core.snapshot import freeze, thaw
from evprice.envs.coupling import Coupling, CouplingFactory, PeriodInputs, PeriodResult
from evprice.envs.couplings.leader import LeaderCommitment
from evprice.envs.couplings.protocols import PROTOCOL_COUPLINGS
from evprice.envs.render import RENDER_FPS, RENDER_MODES, FrameRenderer, MarketFrame, check_render_mode
from evprice.envs.rewards import reward_function, reward_name
from evprice.envs.sessions import resolve_sessions
from evprice.envs.snapshot import EnvSnapshot
from evprice.market.config import MarketConfig
from evprice.market.dynamics import held_chargers
from evprice.market.features import PROFIT_WINDOW, STATION_STATUS, declare_features, state_vector
from evprice.market.state import PeriodOutcome
from evprice.market.world import MarketWorld

STATION_INFO_KEYS = (
    "price",
    "profit",
    "revenue",
    "energy_cost",
    "fixed_cost",
    "energy_kwh",
    "admitted",
    "blocked",
    "occupancy",
    "utilization",
    "cost",
)
"""Per-station entries of ``info``, each (B, N). ``cost`` is the constraint cost kept apart
from the reward (0 in a market without a grid)."""
WELFARE_INFO_KEYS = ("consumer_surplus", "social_welfare")
"""Entries of ``info["market"]`` in currency (:mod:`evprice.market.welfare`), absent where
consumer surplus is not defined (a market without an outside option)."""
MARKET_INFO_KEYS = ("arrivals", "admitted", "blocked", "gave_up", *WELFARE_INFO_KEYS)
"""Entries of ``info["market"]``, each (B,), for the period."""


def station_agents(config: MarketConfig, extra_features: tuple[str, ...] = ()) -> tuple[AgentSpec, ...]:
    """``station_1 ... station_N``: level 1, owning their status and profit window (and the
    ``extra_features`` the couplings give them), pricing. A leader's coupling amends its agent
    (:class:`~evprice.envs.couplings.LeaderCommitment`)."""
    return tuple(
        AgentSpec(
            agent_id=agent_id,
            level=STATION_LEVEL,
            features=(STATION_STATUS, PROFIT_WINDOW, *extra_features),
            action_field=(STATION_STATUS, "price"),
            action_period_s=config.action_period_s,
        )
        for agent_id in config.agent_ids
    )


class MarketEnv:
    """Batched multi-agent pricing environment.

    Args:
        config: the market.
        num_envs: batch size ``B``; all members advance in lockstep and end together.
        env_id: registered id, for messages and metadata.
        scenario: the scenario's own config when it differs from ``config`` (e.g.
            ``LogitBertrandConfig``); defaults to ``config``.
        scenarios: if set, only this many distinct random scenarios are drawn and member
            ``b`` replays scenario ``b % scenarios`` (common random numbers: compare
            ``num_envs / scenarios`` policies on identical demand).
        render_mode: None (default: no rendering) or ``"rgb_array"`` (:meth:`render`
            returns a picture of member 0). It may also be set on a built environment.
        couplings: what the scenario adds to the market, in order (:mod:`evprice.envs.coupling`):
            factories called with this environment once its world exists. A leader's
            commitment is added first whenever ``config.leader`` is set.
        reward: the reward function's name in :mod:`evprice.envs.rewards`; None: the one the
            config selects (:func:`~evprice.envs.rewards.reward_name`).
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}
    _render_mode: str | None = None
    _renderer: FrameRenderer | None = None
    _last_info: dict[str, Any] | None = None

    def __init__(
        self,
        config: MarketConfig,
        num_envs: int = 1,
        env_id: str = "PublicCharging-v0",
        scenario: Any = None,
        scenarios: int | None = None,
        render_mode: str | None = None,
        couplings: Sequence[CouplingFactory] = (),
        reward: str | None = None,
    ) -> None:
        self.render_mode = render_mode
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r} is invalid: expected a positive integer")
        self.env_id = env_id
        factories = tuple(couplings)
        if config.leader is not None and LeaderCommitment not in factories:
            factories = (LeaderCommitment, *factories)
        protocol = PROTOCOL_COUPLINGS.get(config.protocol)
        if protocol is not None and protocol not in factories:
            factories = (*factories, protocol)  # last: a mediator's grid reward reads every cost
        self._coupling_factories = factories
        self._reward_name = reward_name(config) if reward is None else reward
        self._reward_fn = reward_function(self._reward_name)
        config, sampler = resolve_sessions(config)
        self.config = config
        self.scenario = config if scenario is None else scenario
        self.world = MarketWorld(config, int(num_envs), scenarios=scenarios, session_sampler=sampler)
        self.params = self.world.params
        self.num_envs = self.world.batch_size
        self.couplings: tuple[Coupling, ...] = tuple(factory(self) for factory in factories)
        names = [c.name for c in self.couplings]
        if len(set(names)) != len(names):
            raise ValueError(f"{env_id}: coupling names must be unique, got {names}")
        if config.origin_weights is not None and not any(c.sets_travel_times for c in self.couplings):
            raise ConfigError(
                f"origin_weights={config.origin_weights!r} is invalid for {env_id}: origin zones need travel times "
                "from each zone to each station every period, which only the road-network scenarios "
                "(CoupledNetwork-v0, SiouxFalls-v0) provide; use None"
            )
        specs = station_agents(config, tuple(f for c in self.couplings for f in c.station_features))
        for c in self.couplings:
            specs = c.agents(specs)
        self.agent_specs = specs
        self.agent_ids = tuple(a.agent_id for a in self.agent_specs)
        self.station_ids = tuple(config.agent_ids)
        if self.agent_ids[: len(self.station_ids)] != self.station_ids:
            raise ValueError(f"{env_id}: the stations must be the first agents, in order; got {self.agent_ids}")
        self._set_action_layout()
        declared = [c.features() for c in self.couplings]
        self.features = declare_features(self.params) + tuple(f for group in declared for f in group)
        self._valued = tuple(c for c, group in zip(self.couplings, declared) if group)  # couplings with columns
        self._rewarding = tuple(c for c in self.couplings if type(c).rewards is not Coupling.rewards)
        self.layout = ObservationLayout(self.features, self.agent_specs)
        self._obs_index = self.layout.stacked_index(self.agent_ids, pad=True)  # (N, D)
        self._padded = bool((self._obs_index == self.layout.state_size).any())
        low, high = (np.append(b, 0.0) for b in self.layout.state_bounds)  # a padding column is 0
        self.observation_low = low[self._obs_index].astype(np.float32)  # (N, D)
        self.observation_high = high[self._obs_index].astype(np.float32)
        self._price_low = self.params.price_min
        self._price_high = self.params.price_max
        names = self.layout.state_names
        occupancy = [names.index((f"{a}.{STATION_STATUS}", "occupancy")) for a in self.station_ids]
        self._occupancy_columns = _as_slice(occupancy)

    def _set_action_layout(self) -> None:
        """Each agent's action columns: its price (a station's first), then its protocol parts."""
        widths = np.array([len(a.action_fields) for a in self.agent_specs])
        self.action_size = int(widths.max())
        self.action_widths = widths
        self.action_mask = np.arange(self.action_size)[None, :] < widths[:, None]  # (N, A)
        self._plain_actions = self.action_size == 1 and self.n_agents == self.n_stations
        self._action_columns = {
            (a.agent_id, feature, name): j
            for a in self.agent_specs
            for j, (feature, name) in enumerate(a.action_fields)
        }

    # -- sizes -------------------------------------------------------------------------
    @property
    def n_agents(self) -> int:
        """Agents: the stations, then any agent a protocol adds (a mediator)."""
        return len(self.agent_ids)

    @property
    def n_stations(self) -> int:
        return len(self.station_ids)

    def action_names(self, agent_id: str) -> tuple[ObsName, ...]:
        """``(feature key, field)`` each of ``agent_id``'s ``A`` action columns writes (a
        station's price first), padding (:data:`~evprice.core.observation.PAD_NAME`: ignored)
        included."""
        spec = self.agent_specs[self._agent_index(agent_id)]
        names = tuple((f"{agent_id}.{feature}", name) for feature, name in spec.action_fields)
        return names + (PAD_NAME,) * (self.action_size - len(names))

    def action_column(self, agent_id: str, feature: str, field: str) -> int:
        """The column of ``agent_id``'s action that writes ``feature.field`` (its feature name)."""
        try:
            return self._action_columns[(agent_id, feature, field)]
        except KeyError:
            raise KeyError(f"{agent_id}'s action writes no {feature}.{field}: {self.action_names(agent_id)}") from None

    def _agent_index(self, agent_id: str) -> int:
        try:
            return self.agent_ids.index(agent_id)
        except ValueError:
            raise KeyError(f"unknown agent {agent_id!r}; agents: {', '.join(self.agent_ids)}") from None

    @property
    def observation_size(self) -> int:
        return self._obs_index.shape[1]

    @property
    def state_size(self) -> int:
        return self.layout.state_size

    @property
    def n_periods(self) -> int:
        """Pricing decisions per episode."""
        return self.params.n_periods

    def observation_names(self, agent_id: str) -> tuple[ObsName, ...]:
        """``(feature key, field)`` of each of ``agent_id``'s ``D`` observation columns, padding
        (:data:`~evprice.core.observation.PAD_NAME`) included."""
        names = self.layout.observation_names(agent_id)
        return names + (PAD_NAME,) * (self.observation_size - len(names))

    @property
    def render_mode(self) -> str | None:
        """None (no rendering) or ``"rgb_array"``; setting another value raises ``ValueError``."""
        return self._render_mode

    @render_mode.setter
    def render_mode(self, mode: str | None) -> None:
        self._render_mode = check_render_mode(mode)

    def replicate(self, num_envs: int, scenarios: int | None = None) -> MarketEnv:
        """A new environment of the same scenario and config with ``num_envs`` members
        (``scenarios``: common random numbers, as in the constructor)."""
        return MarketEnv(
            self.config,
            num_envs,
            self.env_id,
            scenario=self.scenario,
            scenarios=scenarios,
            couplings=self._coupling_factories,
            reward=self._reward_name,
        )

    def coupling(self, name: str) -> Coupling:
        """The coupling named ``name`` (``"grid"``, ``"roads"``, ``"tariff"``, ``"leader"``, ...)."""
        for c in self.couplings:
            if c.name == name:
                return c
        raise KeyError(f"{self.env_id} has no coupling {name!r}; it has {[c.name for c in self.couplings]}")

    @property
    def reward_name(self) -> str:
        """The reward function's entry in :mod:`evprice.envs.rewards`."""
        return self._reward_name

    @property
    def done(self) -> bool:
        """Whether the episodes are over (``step`` needs a ``reset`` first)."""
        return self.world.done

    # -- api ---------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start new episodes; returns observations (B, N, D) float32."""
        self.world.reset(seed)
        for c in self.couplings:
            c.reset(seed)
        self._last_info = None
        values = self._state_values()
        if values.shape != (self.num_envs, self.state_size):
            widths = {c.name: np.shape(c.values()) for c in self._valued}
            raise ValueError(
                f"{self.env_id}: the state has {values.shape[1]} columns, the declared features {self.state_size}: "
                f"a coupling's values() disagree with its features() (values' shapes: {widths})"
            )
        return self._observations(values)

    @property
    def period(self) -> int:
        """Pricing periods completed in the current episode (0 right after ``reset``)."""
        return self.world.state.period

    def snapshot(self) -> EnvSnapshot:
        """The whole state (world, random streams, the scenario's own parts) as an immutable,
        picklable value: :meth:`restore` puts it back (:mod:`evprice.envs.snapshot`)."""
        return EnvSnapshot(
            env_id=self.env_id,
            num_envs=self.num_envs,
            config=self.config,
            world=self.world.snapshot(),
            parts=freeze({"last_info": self._last_info, "couplings": {c.name: c.snapshot() for c in self.couplings}}),
        )

    def restore(self, snapshot: EnvSnapshot) -> None:
        """Put back a :meth:`snapshot` of this environment, or of another one of the same
        scenario, batch size and config; the steps that follow repeat those that followed it."""
        if not isinstance(snapshot, EnvSnapshot):
            raise TypeError(f"snapshot must be an EnvSnapshot (from env.snapshot()), got {type(snapshot).__name__}")
        if (snapshot.env_id, snapshot.num_envs) != (self.env_id, self.num_envs):
            raise ValueError(
                f"the snapshot is of {snapshot.env_id} with num_envs={snapshot.num_envs}; "
                f"this environment is {self.env_id} with num_envs={self.num_envs}"
            )
        if snapshot.config != self.config:
            raise ValueError(
                f"the snapshot was taken with another config of {self.env_id}: restore it into an environment "
                "made with the same overrides"
            )
        self.world.restore(snapshot.world)
        parts = thaw(snapshot.parts)
        self._last_info = parts["last_info"]
        for c in self.couplings:
            c.restore(parts["couplings"][c.name])

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Apply one pricing decision per agent.

        Args:
            actions: (B, N, A) in [-1, 1] (finite values outside are clipped): each agent's
                columns as :meth:`action_names` names them; ``A = 1`` and every agent a station
                without a protocol. Under a protocol, price-only actions (B, N_stations, 1)
                are also accepted: every protocol column is then 0.

        Returns:
            ``(obs (B, N, D) float32, reward (B, N) float64, terminated (B,) bool,
            truncated (B,) bool, info)``; the episode is truncated at its horizon and never
            terminates early.
        """
        return self.step_checked(self.check_actions(actions))

    def check_actions(self, actions: Any) -> np.ndarray:
        """``actions`` checked (``ActionError`` on a wrong shape, NaN or inf) as (B, N, A) float64
        (price-only actions under a protocol widened with zeros, see :meth:`step`)."""
        shape = (self.num_envs, self.n_agents, self.action_size)
        if self._plain_actions:
            return check_actions(actions, shape)
        price_only = (self.num_envs, self.n_stations, 1)
        try:
            given = np.shape(actions)
        except (TypeError, ValueError):  # ragged: check_actions names the problem
            given = None
        if given == price_only:
            full = np.zeros(shape)
            full[:, : self.n_stations, :1] = check_actions(actions, price_only)
            return full
        return check_actions(
            actions, shape, what=f"actions (each agent's columns: env.action_names; or price-only {price_only})"
        )

    def step_checked(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """:meth:`step` for actions a view has already validated (:meth:`check_actions`): (B, N, A)
        finite float64, so the framework views check each action once."""
        if self._plain_actions:
            return self.step_mapped(scale_action(actions[..., 0], self._price_low, self._price_high))
        clipped = np.minimum(np.maximum(actions, -1.0), 1.0)
        price = scale_action(clipped[:, : self.n_stations, 0], self._price_low, self._price_high)
        return self.step_mapped(price, clipped)

    def step_mapped(
        self, price_per_kwh: np.ndarray, actions: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """:meth:`step` for prices (B, N_stations) in currency/kWh that a view has already mapped
        from validated actions (:func:`~evprice.core.actions.scale_action`, or
        :func:`~evprice.core.actions.scale_single_action` per agent): inside the bounds, unchecked.
        ``actions``: under a protocol, every agent's actions (B, N, A) in [-1, 1], for the
        protocol's columns; None: those columns are 0."""
        if self.world.done:
            raise RuntimeError(f"{self.env_id}: the episode is over: call reset() before step()")
        if not self.couplings:
            outcome = self.world.step(price_per_kwh, None)
            cost, extra_info = np.zeros(outcome.price_per_kwh.shape), {}
        else:
            if actions is None and not self._plain_actions:
                actions = np.zeros((self.num_envs, self.n_agents, self.action_size))
            inputs = PeriodInputs(price_per_kwh, actions=actions)
            for c in self.couplings:
                inputs = c.inputs(inputs)
            outcome = self.world.step(inputs.price_per_kwh, inputs.travel_time_h)
            draw = outcome.energy_kwh_per_substep / self.config.charging_efficiency
            for c in self.couplings:
                draw = c.grid_draw(outcome, draw)
            period = PeriodResult(outcome, draw)
            cost, extra_info = None, {}
            for c in self.couplings:
                part = c.after_period(period)
                if part.cost is not None:
                    cost = part.cost if cost is None else cost + part.cost
                extra_info.update(part.info)
            if cost is None:
                cost = np.zeros(outcome.price_per_kwh.shape)
        reward = self._reward_fn(self, outcome, extra_info)
        if self.couplings:
            if self.n_agents > self.n_stations:  # agents that are not stations start from 0
                reward = np.concatenate([reward, np.zeros((self.num_envs, self.n_agents - self.n_stations))], axis=1)
            for c in self._rewarding:
                reward = c.rewards(reward, period, cost)
        done = np.ones(self.num_envs, dtype=bool) if self.world.done else np.zeros(self.num_envs, dtype=bool)
        values = self._state_values()
        info = self._info(outcome, values[:, self._occupancy_columns], cost)
        info.update(extra_info)
        self._last_info = info  # for render(): a reference, not a copy
        return self._observations(values), reward, np.zeros(self.num_envs, dtype=bool), done, info

    def observe(self) -> np.ndarray:
        """Current observations (B, N, D) float32, in each agent's layout."""
        return self._observations(self._state_values())

    def _observations(self, values: np.ndarray) -> np.ndarray:
        """Each agent's observation (B, N, D) float32 gathered from the state values (B, F)."""
        if self._padded:
            values = self.layout.padded_state(values)
        return values[:, self._obs_index].astype(np.float32)

    def global_state(self) -> np.ndarray:
        """Every feature field in declared order (B, F) float32 (the system view)."""
        return self._state_values().astype(np.float32)

    def _state_values(self) -> np.ndarray:
        """Every feature field in declared order (B, F) float64: the market's, then the couplings'."""
        if not self._valued:
            return state_vector(self.params, self.world.state)
        if len(self._valued) == 1:
            return state_vector(self.params, self.world.state, self._valued[0].values())
        extra = np.concatenate([c.values() for c in self._valued], axis=1)
        return state_vector(self.params, self.world.state, extra)

    # -- rendering -----------------------------------------------------------------------
    def render(self) -> np.ndarray | None:
        """A picture of batch member 0 as it is now: ``(H, W, 3)`` ``uint8`` RGB with
        ``render_mode="rgb_array"`` (:mod:`evprice.envs.render` says what it shows; ``W = 720``,
        ``H`` grows with the stations); None, with a warning, when ``render_mode`` is None.
        Call it after ``reset()`` and after each ``step()``."""
        if self.render_mode is None:
            warnings.warn(
                f"{self.env_id}: render() was called with render_mode=None; "
                f"make the environment with render_mode in {list(RENDER_MODES)}",
                stacklevel=2,
            )
            return None
        if self._renderer is None:
            self._renderer = FrameRenderer()
        return self._renderer(self.frame_data())

    def frame_data(self, member: int = 0) -> MarketFrame:
        """The snapshot a frame of batch member ``member`` draws (:class:`~evprice.envs.render.MarketFrame`)."""
        if not 0 <= member < self.num_envs:
            raise ValueError(f"member={member!r} is invalid: expected an integer in [0, {self.num_envs - 1}]")
        p, cfg, state = self.params, self.config, self.world.state
        t_s = state.period * cfg.action_period_s
        present = held_chargers(p, state.slot_depart_s[member : member + 1], float(t_s))[1][0]
        queueing = cfg.when_full == "queue"
        info = self._last_info
        added: dict[str, Any] = {}
        for c in self.couplings:
            added.update(c.frame(member, info))
        return MarketFrame(
            env_id=self.env_id,
            period=int(state.period),
            n_periods=self.n_periods,
            time_s=int(p.start_s + t_s),
            currency=cfg.currency,
            station_ids=self.station_ids,
            price_per_kwh=np.asarray(state.price_per_kwh[member], dtype=np.float64),
            price_min_per_kwh=np.asarray(self._price_low, dtype=np.float64),
            price_max_per_kwh=np.asarray(self._price_high, dtype=np.float64),
            chargers_busy=np.minimum(present, p.capacity),
            chargers=np.asarray(p.capacity),
            queue=np.maximum(present - p.capacity, 0) if queueing else None,
            waiting_spaces=np.asarray(cfg.waiting_spaces) if queueing else None,
            profit=None if info is None else np.asarray(info["profit"][member], dtype=np.float64),
            has_chargers=cfg.demand == "sampled",
            **added,
        )

    def close(self) -> None:
        """Release the renderer's figure."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def prices_to_actions(self, price_per_kwh: Any) -> np.ndarray:
        """Price-only actions (..., N_stations, 1) that post ``price_per_kwh`` (..., N_stations)
        (under a protocol its columns are 0, see :meth:`step`); raises if a price is out of bounds."""
        p = np.asarray(price_per_kwh, dtype=np.float64)
        bad = (p < self._price_low - 1e-12) | (p > self._price_high + 1e-12)
        if bad.any():
            i = int(np.argwhere(bad)[0][-1])
            raise ValueError(
                f"price {p[np.nonzero(bad)][0]:g} for {self.station_ids[i]} is outside its bounds "
                f"[{self._price_low[i]:g}, {self._price_high[i]:g}] {self.config.currency}/kWh"
            )
        return unscale_action(p, self._price_low, self._price_high)[..., None]

    def _info(self, out: PeriodOutcome, occupancy: np.ndarray, cost: np.ndarray) -> dict[str, Any]:
        return {
            "price": out.price_per_kwh,
            "profit": out.profit,
            "revenue": out.revenue,
            "energy_cost": out.energy_cost,
            "fixed_cost": out.fixed_cost,
            "energy_kwh": out.energy_kwh,
            "admitted": out.admitted,
            "blocked": out.blocked,
            "occupancy": occupancy,
            "utilization": out.utilization,
            "cost": cost,
            "market": {
                "arrivals": out.arrivals,
                "admitted": out.admitted.sum(axis=1),
                "blocked": out.blocked.sum(axis=1),
                "gave_up": out.gave_up,
                **(
                    {}
                    if math.isnan(out.consumer_surplus[0])  # NaN in every member or none: a property of the market
                    else {"consumer_surplus": out.consumer_surplus, "social_welfare": out.social_welfare}
                ),
            },
        }


def _as_slice(columns: list[int]) -> slice | np.ndarray:
    """``columns`` as a slice when they are evenly spaced and ascending (a view, not a gather:
    a third of the cost on one environment), else as an index array."""
    step = columns[1] - columns[0] if len(columns) > 1 else 1
    if step > 0 and columns == list(range(columns[0], columns[-1] + 1, step)):
        return slice(columns[0], columns[-1] + 1, step)
    return np.array(columns)
