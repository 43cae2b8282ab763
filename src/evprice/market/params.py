"""``MarketParams``: the numbers the dynamics need, derived once from a ``MarketConfig``.

Everything here depends only on the configuration, never on the state, so it is computed
once per environment and shared by every step and every batch member.

Time conventions (used throughout ``evprice.market``):

* ``t`` is seconds since the start of the episode; the time of day is
  ``(start_s + t) mod 86,400``.
* Sub-step ``j`` covers ``[j dt, (j + 1) dt)``; period ``k`` covers sub-steps
  ``k S .. k S + S - 1`` with ``S = action_period_s / dt_s``.
* ``dt_s`` divides an hour, so a sub-step never straddles an hour boundary and the hourly
  arrival rates and wholesale prices are constant within it.
* Arrivals and departures happen at exact times inside sub-steps; ``dt`` is the
  resolution of the accounting (energy, money, EMAs), not of the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from evprice.market.config import MarketConfig
from evprice.market.profiles import HOURS_PER_DAY, SECONDS_PER_HOUR
from evprice.market.sessions import expected_delivered_kwh

NO_SLOT = np.inf
"""``slot_depart_s`` of a padding slot beyond a station's places: never free."""


@dataclass(frozen=True)
class MarketParams:
    """Static arrays of one market. Shapes: ``N`` stations, ``C`` = most slots (places) of a station,
    ``S`` sub-steps per period, ``J`` sub-steps per episode, ``H`` hours an episode touches,
    ``Z`` origin zones.

    A station has one *slot* per place an EV can hold: its chargers, plus its waiting spaces
    when ``when_full="queue"``."""

    config: MarketConfig
    n_stations: int
    n_slots: int  # C
    capacity: np.ndarray  # (N,) int64, chargers per station
    places: np.ndarray  # (N,) int64, EVs a station can hold: chargers (+ waiting spaces when queueing)
    slot_padding: np.ndarray  # (N, C) bool, True where the slot does not exist
    power_kw: np.ndarray  # (N,)
    price_min: np.ndarray  # (N,) currency/kWh
    price_max: np.ndarray  # (N,) currency/kWh
    dt_s: int
    substeps_per_period: int  # S
    n_periods: int
    horizon_s: int
    start_s: int
    first_hour: int  # absolute hour index (since day 0, 00:00) of the episode's first hour
    n_hours: int  # H: hours of the episode, plus the hour of the final observation
    substep_hour: np.ndarray  # (J,) int, index into the episode's hourly series
    expected_arrivals: np.ndarray  # (J,) expected market-wide arrivals in each sub-step
    # choice
    base_utility: np.ndarray  # (N,) station_utility minus the utility lost to travel time
    travel_time_h: np.ndarray  # (N,) travel_time_min of the config in hours (zeros if None)
    origin_cdf: np.ndarray  # (J, Z) cumulative share of the requests from each origin zone in each sub-step (last = 1)
    # sessions
    dwell_mean_s: float
    dwell_scv: float  # squared coefficient of variation of the dwell time
    energy_mean_kwh: float
    # economics
    marginal_cost_per_kwh: np.ndarray  # (N,) currency/kWh on top of the wholesale energy
    fixed_cost_per_h: np.ndarray  # (N,) currency/h
    ema_period_decay: float  # (1 - alpha) ** S, alpha = 1 - exp(-dt / tau): weight of the old EMA after a period
    ema_rate_weights_per_h: np.ndarray  # (S,) alpha (1-alpha)^(S-1-j) / dt_h: period amounts -> EMA increment
    delivered_kwh_per_ev: np.ndarray  # (N,) E[min(E, P D)]: mean energy an admitted EV receives
    # bounds and normalisation
    max_energy_rate_kw: np.ndarray  # (N,) the fastest a station can sell energy (chargers x power; sampled)

    @classmethod
    def from_config(cls, config: MarketConfig) -> MarketParams:
        n = config.n_stations
        capacity = np.asarray(config.chargers_per_station, dtype=np.int64)
        places = capacity + (np.asarray(config.waiting_spaces, dtype=np.int64) if config.when_full == "queue" else 0)
        c_max = int(places.max())
        padding = np.arange(c_max)[None, :] >= places[:, None]
        hourly_weights = config.origin_weights_by_hour()  # (24, Z)
        hourly_cdf = np.cumsum(hourly_weights, axis=1) / hourly_weights.sum(axis=1, keepdims=True)
        hourly_cdf[:, -1] = 1.0
        dt = config.dt_s
        s = config.substeps_per_period
        j_total = config.n_periods * s
        abs_hour = (config.start_s + dt * np.arange(j_total)) // SECONDS_PER_HOUR  # hour of each sub-step since day 0
        first_hour = config.start_s // SECONDS_PER_HOUR
        n_hours = (config.start_s + config.horizon_s) // SECONDS_PER_HOUR - first_hour + 1
        rates = config.arrival_rates_per_h()
        expected_arrivals = rates[abs_hour % HOURS_PER_DAY] * (dt / SECONDS_PER_HOUR)
        origin_cdf = np.ascontiguousarray(hourly_cdf[abs_hour % HOURS_PER_DAY])  # (J, Z): the sub-step's hour

        travel = np.zeros(n) if config.travel_time_min is None else np.asarray(config.travel_time_min)
        alpha = -np.expm1(-dt / (config.ema_time_constant_h * SECONDS_PER_HOUR))
        decay = (1.0 - alpha) ** (s - 1 - np.arange(s))
        power = np.asarray(config.charger_power_kw, dtype=np.float64)
        price_max = np.asarray(config.price_max, dtype=np.float64)
        energy = (config.energy_demand_distribution, config.energy_demand_mean_kwh, config.energy_demand_cv)
        dwell = (config.dwell_time_distribution, config.dwell_time_mean_h, config.dwell_time_cv)
        kwh_per_ev = np.array([expected_delivered_kwh(energy, dwell, float(p)) for p in power])
        if config.demand == "expected":  # no chargers: every EV of the busiest hour at one station
            max_rate_kw = rates.max() * kwh_per_ev
        else:
            max_rate_kw = capacity * power
        return cls(
            config=config,
            n_stations=n,
            n_slots=c_max,
            capacity=capacity,
            places=places,
            slot_padding=padding,
            power_kw=power,
            price_min=np.asarray(config.price_min, dtype=np.float64),
            price_max=price_max,
            dt_s=dt,
            substeps_per_period=s,
            n_periods=config.n_periods,
            horizon_s=config.horizon_s,
            start_s=config.start_s,
            first_hour=int(first_hour),
            n_hours=int(n_hours),
            substep_hour=(abs_hour - first_hour).astype(np.intp),
            expected_arrivals=expected_arrivals,
            base_utility=np.asarray(config.station_utility, dtype=np.float64) - config.travel_time_sensitivity * travel,
            travel_time_h=travel / 60.0,
            origin_cdf=origin_cdf,
            dwell_mean_s=config.dwell_time_mean_h * SECONDS_PER_HOUR,
            dwell_scv=config.dwell_time_cv**2,
            energy_mean_kwh=config.energy_demand_mean_kwh,
            marginal_cost_per_kwh=np.asarray(config.marginal_cost_per_kwh, dtype=np.float64),
            fixed_cost_per_h=np.asarray(config.fixed_cost_per_h, dtype=np.float64),
            ema_period_decay=float((1.0 - alpha) ** s),
            ema_rate_weights_per_h=alpha * decay / (dt / SECONDS_PER_HOUR),
            delivered_kwh_per_ev=kwh_per_ev,
            max_energy_rate_kw=max_rate_kw,
        )

    @cached_property
    def packed(self):
        """The flat arrays the compiled kernels read (:func:`evprice.market.kernel.pack`), built once."""
        from evprice.market.kernel import pack  # numba loads with the first period, not with the configs

        return pack(self)

    @property
    def max_revenue_per_h(self) -> np.ndarray:
        """(N,) the most revenue a station can earn in an hour, at price_max."""
        return self.max_energy_rate_kw * self.price_max

    @cached_property
    def reward_scale_per_period(self) -> np.ndarray:
        """(N,) profit per period that counts as reward 1: ``config.reward_scale_per_period`` if
        set, else the most revenue the station can earn in one period. Read-only (computed once)."""
        if self.config.reward_scale_per_period is not None:
            scale = np.full(self.n_stations, float(self.config.reward_scale_per_period))
        else:
            scale = self.max_revenue_per_h * (self.config.action_period_s / SECONDS_PER_HOUR)
        scale.setflags(write=False)
        return scale

    @cached_property
    def team_reward_scale_per_period(self) -> float:
        """The stations' summed reward scale: what a team reward (and a welfare reward) divides by."""
        return float(self.reward_scale_per_period.sum())

    def arrival_weighted_elec_price_per_kwh(self) -> float:
        """The wholesale price a constant charging price meets on average: the episode's hourly
        profile (before noise, which has mean 0) weighted by the arrival rate."""
        elec = self.config.elec_price_profile_per_kwh()[(self.first_hour + self.substep_hour) % HOURS_PER_DAY]
        lam = self.expected_arrivals
        return float(lam @ elec / lam.sum()) if lam.sum() > 0 else float(elec.mean())

    def hour_index(self, t_s: np.ndarray | float) -> np.ndarray:
        """Index into the episode's hourly series of time ``t_s`` (s since episode start, <= horizon)."""
        hour = (self.start_s + np.asarray(t_s, dtype=np.float64)) // SECONDS_PER_HOUR - self.first_hour
        return np.minimum(hour, self.n_hours - 1).astype(np.intp)
