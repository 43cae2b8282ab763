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
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evprice.core.actions import check_actions, scale_action, unscale_action
from evprice.core.agents import STATION_LEVEL, AgentSpec
from evprice.core.features import Feature
from evprice.core.observation import ObservationLayout
from evprice.envs.sessions import resolve_sessions
from evprice.market.config import MarketConfig
from evprice.market.features import PROFIT_WINDOW, STATION_STATUS, declare_features, state_vector
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
MARKET_INFO_KEYS = ("arrivals", "admitted", "blocked", "gave_up")
"""Entries of ``info["market"]``, each (B,), for the period."""


def station_agents(config: MarketConfig, extra_features: tuple[str, ...] = ()) -> tuple[AgentSpec, ...]:
    """``station_1 ... station_N``: level 1, owning their status and profit window (and any
    ``extra_features`` a coupled scenario gives them), pricing."""
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
    """

    def __init__(
        self,
        config: MarketConfig,
        num_envs: int = 1,
        env_id: str = "PublicCharging-v0",
        scenario: Any = None,
        scenarios: int | None = None,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r} is invalid: expected a positive integer")
        self.env_id = env_id
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
        self._obs_index = self.layout.stacked_index(self.agent_ids)  # (N, D)
        lows, highs = zip(*(self.layout.observation_bounds(a) for a in self.agent_ids))
        self.observation_low = np.stack(lows).astype(np.float32)  # (N, D)
        self.observation_high = np.stack(highs).astype(np.float32)
        self._price_low = self.params.price_min
        self._price_high = self.params.price_max
        names = self.layout.state_names
        self._occupancy_index = np.array([names.index((f"{a}.{STATION_STATUS}", "occupancy")) for a in self.agent_ids])

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
        self._on_reset(seed)
        return self.observe()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Apply one pricing decision per agent.

        Args:
            actions: (B, N, 1) in [-1, 1] (finite values outside are clipped).

        Returns:
            ``(obs (B, N, D) float32, reward (B, N) float64, terminated (B,) bool,
            truncated (B,) bool, info)``; the episode is truncated at its horizon and never
            terminates early.
        """
        if self.world.done:
            raise RuntimeError(f"{self.env_id}: the episode is over: call reset() before step()")
        a = check_actions(actions, (self.num_envs, self.n_agents, 1))
        price = scale_action(a[..., 0], self._price_low, self._price_high)
        outcome = self.world.step(price, self._travel_time_h())
        reward = self._reward(outcome)
        cost, extra_info = self._couple(outcome)
        done = np.full(self.num_envs, self.world.done)
        values = self._state_values()
        info = self._info(outcome, values[:, self._occupancy_index], cost)
        info.update(extra_info)
        return values[:, self._obs_index].astype(np.float32), reward, np.zeros(self.num_envs, dtype=bool), done, info

    def observe(self) -> np.ndarray:
        """Current observations (B, N, D) float32, in each agent's layout."""
        return self._state_values()[:, self._obs_index].astype(np.float32)

    def global_state(self) -> np.ndarray:
        """Every feature field in declared order (B, F) float32 (the system view)."""
        return self._state_values().astype(np.float32)

    def _state_values(self) -> np.ndarray:
        """Every feature field in declared order (B, F) float64."""
        return state_vector(self.params, self.world.state)

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
            "fixed_cost": np.array(out.fixed_cost),
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
            },
        }
