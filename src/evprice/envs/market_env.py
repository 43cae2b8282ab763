"""``MarketEnv``: the charging market as a batched multi-agent environment.

This is where a scenario is assembled: station agents (``evprice.core``) own the market's
features (``evprice.market.features``); their actions write the price field; the world
(``evprice.market.world``) owns the dynamics; observations are gathered from the feature
values by each agent's visibility; rewards come from ``evprice.market.reward``.

Arrays only, no framework: the PettingZoo adapter is a ``num_envs = 1`` view of it and the
vector adapter adds auto-reset. Shapes: ``B = num_envs``, ``N`` agents, ``D`` observation
size, ``F`` state size.

A coupled scenario (the grid- and road-coupled markets) extends it through its hooks:
``_agent_specs`` and ``_declare_features`` (its agents' extra features), ``_on_reset``,
``_travel_time_h`` (the drivers' travel times of the coming period), ``_reward``,
``_couple`` (the constraint cost and extra info of a period) and ``_state_values`` (its
features' values).

Move order: by default every station's action sets its price for the period that is about
to run, all at once. With a Stackelberg leader (``config.leader``) the leader moves first:
its action at period ``t`` is a commitment to its price of period ``t + 1``, published at
once in its public ``LeaderCommitment.next_price`` feature, so the followers see the
leader's price before they set theirs (:func:`evprice.market.dynamics.leader_prices`). Its
price in the first period is the middle of its bounds. The leader is a level-2 agent whose
subordinates are the followers: it also reads their ``upper_level`` features (status and
profit windows). Observations of different sizes are padded with zeros at their end to
one size ``D`` (:data:`evprice.core.observation.PAD_NAME` columns).

Rendering: with ``render_mode="rgb_array"`` (constructor argument, or set the attribute on a
built env), :meth:`MarketEnv.render` returns an ``(H, W, 3)`` ``uint8`` picture of batch member
0 (:mod:`evprice.envs.render`); ``render_mode=None`` (the default) renders nothing.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from evprice.core.actions import check_actions, scale_action, unscale_action
from evprice.core.agents import COORDINATOR_LEVEL, STATION_LEVEL, AgentSpec
from evprice.core.config import ConfigError
from evprice.core.features import Feature
from evprice.core.observation import PAD_NAME, ObservationLayout, ObsName
from evprice.core.snapshot import freeze, thaw
from evprice.envs.render import RENDER_FPS, RENDER_MODES, FrameRenderer, MarketFrame, check_render_mode
from evprice.envs.sessions import resolve_sessions
from evprice.envs.snapshot import EnvSnapshot
from evprice.grid.features import STATION_GRID
from evprice.market.config import MarketConfig
from evprice.market.dynamics import held_chargers, leader_prices
from evprice.market.features import (
    LEADER_COMMITMENT,
    PROFIT_WINDOW,
    STATION_STATUS,
    declare_features,
    state_vector,
)
from evprice.market.reward import compute_reward
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
    """``station_1 ... station_N``: level 1, owning their status and profit window (and any
    ``extra_features`` a coupled scenario gives them), pricing.

    A Stackelberg leader (``config.leader``) is level 2 instead, with the other stations as
    its subordinates; it also owns its ``LeaderCommitment``, which its action writes."""
    specs = []
    for agent_id in config.agent_ids:
        if agent_id == config.leader:
            spec = AgentSpec(
                agent_id=agent_id,
                level=COORDINATOR_LEVEL,
                features=(STATION_STATUS, PROFIT_WINDOW, *extra_features, LEADER_COMMITMENT),
                action_field=(LEADER_COMMITMENT, "next_price"),
                action_period_s=config.action_period_s,
                subordinates=tuple(a for a in config.agent_ids if a != agent_id),
            )
        else:
            spec = AgentSpec(
                agent_id=agent_id,
                level=STATION_LEVEL,
                features=(STATION_STATUS, PROFIT_WINDOW, *extra_features),
                action_field=(STATION_STATUS, "price"),
                action_period_s=config.action_period_s,
            )
        specs.append(spec)
    return tuple(specs)


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
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}
    _render_mode: str | None = None
    _renderer: FrameRenderer | None = None
    _last_info: dict[str, Any] | None = None
    _commitment: np.ndarray | None = None  # (B,) the leader's price for the coming period

    def __init__(
        self,
        config: MarketConfig,
        num_envs: int = 1,
        env_id: str = "PublicCharging-v0",
        scenario: Any = None,
        scenarios: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.render_mode = render_mode
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r} is invalid: expected a positive integer")
        self.env_id = env_id
        if config.origin_weights is not None and type(self)._travel_time_h is MarketEnv._travel_time_h:
            raise ConfigError(
                f"origin_weights={config.origin_weights!r} is invalid for {env_id}: origin zones need travel times "
                "from each zone to each station every period, which only the road-network scenarios "
                "(CoupledNetwork-v0, SiouxFalls-v0) provide; use None"
            )
        config, sampler = resolve_sessions(config)
        self.config = config
        self.scenario = config if scenario is None else scenario
        self.world = MarketWorld(config, int(num_envs), scenarios=scenarios, session_sampler=sampler)
        self.params = self.world.params
        self.num_envs = self.world.batch_size
        self.agent_specs = self._agent_specs()
        self.agent_ids = tuple(a.agent_id for a in self.agent_specs)
        self.features = self._declare_features()
        self.layout = ObservationLayout(self.features, self.agent_specs)
        self._leader = config.leader_index
        self._obs_index = self.layout.stacked_index(self.agent_ids, pad=True)  # (N, D)
        self._padded = bool((self._obs_index == self.layout.state_size).any())
        low, high = (np.append(b, 0.0) for b in self.layout.state_bounds)  # a padding column is 0
        self.observation_low = low[self._obs_index].astype(np.float32)  # (N, D)
        self.observation_high = high[self._obs_index].astype(np.float32)
        self._price_low = self.params.price_min
        self._price_high = self.params.price_max
        names = self.layout.state_names
        occupancy = [names.index((f"{a}.{STATION_STATUS}", "occupancy")) for a in self.agent_ids]
        self._occupancy_columns = _as_slice(occupancy)

    # -- sizes -------------------------------------------------------------------------
    @property
    def n_agents(self) -> int:
        return len(self.agent_ids)

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
        return MarketEnv(self.config, num_envs, self.env_id, scenario=self.scenario, scenarios=scenarios)

    # -- hooks of coupled scenarios -----------------------------------------------------
    def _agent_specs(self) -> tuple[AgentSpec, ...]:
        return station_agents(self.config)

    def _declare_features(self) -> tuple[Feature, ...]:
        return declare_features(self.params)

    def _on_reset(self, seed: int | None) -> None:
        """Called after the world's reset, before the first observation."""

    def _travel_time_h(self) -> np.ndarray | None:
        """Travel times (Z, N) or (B, Z, N) from each origin zone to each station for the period
        about to run, hours; None: the market's own (``travel_time_min`` or none)."""
        return None

    def _reward(self, outcome: PeriodOutcome) -> np.ndarray:
        """(B, N) reward of the period just run (the market's, by ``config.reward``)."""
        return compute_reward(self.params, outcome, self.world.state)

    def _couple(self, outcome: PeriodOutcome) -> tuple[np.ndarray, dict[str, Any]]:
        """The constraint cost (B, N) of the period just run and extra ``info`` entries.

        Called after the world's step, before the observation is assembled."""
        return np.zeros(outcome.price_per_kwh.shape), {}

    # -- api ---------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start new episodes; returns observations (B, N, D) float32."""
        self.world.reset(seed)
        if self._leader is not None:  # the first period's price, as if committed before the episode
            self._commitment = self.world.state.price_per_kwh[:, self._leader].copy()
        self._on_reset(seed)
        self._last_info = None
        return self.observe()

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
            parts=freeze(self._snapshot_parts()),
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
        self._restore_parts(thaw(snapshot.parts))

    def _snapshot_parts(self) -> dict[str, Any]:
        """The scenario's own state beside the world's (coupled scenarios add theirs)."""
        return {"commitment": self._commitment, "last_info": self._last_info}

    def _restore_parts(self, parts: dict[str, Any]) -> None:
        self._commitment = parts["commitment"]
        self._last_info = parts["last_info"]

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Apply one pricing decision per agent.

        Args:
            actions: (B, N, 1) in [-1, 1] (finite values outside are clipped).

        Returns:
            ``(obs (B, N, D) float32, reward (B, N) float64, terminated (B,) bool,
            truncated (B,) bool, info)``; the episode is truncated at its horizon and never
            terminates early.
        """
        return self.step_checked(check_actions(actions, (self.num_envs, self.n_agents, 1)))

    def step_checked(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """:meth:`step` for actions a view has already validated (``check_actions``): (B, N, 1)
        finite float64, so the framework views check each action once."""
        return self.step_mapped(scale_action(actions[..., 0], self._price_low, self._price_high))

    def step_mapped(
        self, price_per_kwh: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """:meth:`step` for prices (B, N) in currency/kWh that a view has already mapped from
        validated actions (:func:`~evprice.core.actions.scale_action`, or
        :func:`~evprice.core.actions.scale_single_action` per agent): inside the bounds, unchecked."""
        if self.world.done:
            raise RuntimeError(f"{self.env_id}: the episode is over: call reset() before step()")
        price = price_per_kwh
        if self._leader is not None:
            price, next_commitment = leader_prices(price, self._commitment, self._leader)
        outcome = self.world.step(price, self._travel_time_h())
        if self._leader is not None:
            self._commitment = next_commitment
        reward = self._reward(outcome)
        cost, extra_info = self._couple(outcome)
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
        """Every feature field in declared order (B, F) float64."""
        return state_vector(self.params, self.world.state, self._commitment)

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
        grid = None if info is None else info.get("grid")
        bus_vm = vm_min = band = None
        names = self.layout.state_names
        grid_columns = [(f"{a}.{STATION_GRID}", "bus_vm") for a in self.agent_ids]
        if all(c in names for c in grid_columns):  # a grid-coupled scenario
            band = (float(cfg.vm_min_pu), float(cfg.vm_max_pu))
            if grid is not None:
                bus_vm = np.asarray(grid["bus_vm_pu"][member], dtype=np.float64)
                vm_min = float(grid["vm_min_pu"][member])
            else:  # after reset: the base-load power flow the grid features hold
                values = self._state_values()[member]
                bus_vm = values[[names.index(c) for c in grid_columns]]
        buses = getattr(self, "station_buses", None)
        return MarketFrame(
            env_id=self.env_id,
            period=int(state.period),
            n_periods=self.n_periods,
            time_s=int(p.start_s + t_s),
            currency=cfg.currency,
            station_ids=tuple(self.agent_ids),
            price_per_kwh=np.asarray(state.price_per_kwh[member], dtype=np.float64),
            price_min_per_kwh=np.asarray(self._price_low, dtype=np.float64),
            price_max_per_kwh=np.asarray(self._price_high, dtype=np.float64),
            chargers_busy=np.minimum(present, p.capacity),
            chargers=np.asarray(p.capacity),
            queue=np.maximum(present - p.capacity, 0) if queueing else None,
            waiting_spaces=np.asarray(cfg.waiting_spaces) if queueing else None,
            profit=None if info is None else np.asarray(info["profit"][member], dtype=np.float64),
            cost=None if grid is None else float(np.max(info["cost"][member])),
            bus_vm_pu=bus_vm,
            station_buses=None if buses is None or bus_vm is None else tuple(int(b) for b in buses),
            vm_min_pu=vm_min,
            vm_band_pu=band,
            has_chargers=cfg.demand == "sampled",
        )

    def close(self) -> None:
        """Release the renderer's figure."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def prices_to_actions(self, price_per_kwh: Any) -> np.ndarray:
        """Actions (..., N, 1) that post ``price_per_kwh`` (..., N); raises if a price is out of bounds."""
        p = np.asarray(price_per_kwh, dtype=np.float64)
        bad = (p < self._price_low - 1e-12) | (p > self._price_high + 1e-12)
        if bad.any():
            i = int(np.argwhere(bad)[0][-1])
            raise ValueError(
                f"price {p[np.nonzero(bad)][0]:g} for {self.agent_ids[i]} is outside its bounds "
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
