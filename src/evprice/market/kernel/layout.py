"""The packed parameters the compiled kernels read: the layout of the station table, the scalar
and flag vectors, and :func:`pack`, which builds them from a market's params (once per
environment)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# -- status codes of an arrival event (as in evprice.market.choice) ------------------------
ADMITTED, BLOCKED, GAVE_UP, NO_EVENT = 0, 1, 2, 3

# -- layout of the packed parameters --------------------------------------------------------
# rows of the (len(STATION_ROWS), N) float64 station table
STATION_ROWS = ("power_kw", "marginal_cost_per_kwh", "fixed_cost_per_h", "base_utility", "travel_time_h", "capacity")
POWER, MARGINAL, FIXED, BASE_UTILITY, TRAVEL_H, CAPACITY = range(len(STATION_ROWS))
# entries of the float64 scalar vector
SCALARS = (
    "dt_s",
    "horizon_s",
    "start_s",
    "price_sensitivity",
    "congestion_sensitivity",
    "travel_time_per_min",
    "outside_utility",
    "outside_price_per_kwh",
    "outside_time_h",
    "value_of_time_per_h",
    "travel_time_weight",
    "time_budget_h",
    "dwell_mean_h",
    "dwell_scv",
    "charging_efficiency",
    "ema_period_decay",
    "period_h",
    "noise_scale",
    "dwell_a",
    "dwell_b",
    "energy_a",
    "energy_b",
)
(
    DT_S,
    HORIZON_S,
    START_S,
    BETA,
    CONGESTION,
    TRAVEL_PER_MIN,
    OUTSIDE_UTILITY,
    OUTSIDE_PRICE,
    OUTSIDE_TIME_H,
    VOT_PER_H,
    TRAVEL_WEIGHT,
    BUDGET_H,
    DWELL_MEAN_H,
    DWELL_SCV,
    EFFICIENCY,
    EMA_DECAY,
    PERIOD_H,
    NOISE_SCALE,
    DWELL_A,
    DWELL_B,
    ENERGY_A,
    ENERGY_B,
) = range(len(SCALARS))
# entries of the int64 flag vector
FLAGS = (
    "substeps",
    "first_hour",
    "n_hours",
    "generalised",
    "queue",
    "reroute",
    "has_outside",
    "has_budget",
    "surplus_defined",
    "normal_noise",
    "dwell_kind",
    "energy_kind",
)
SUBSTEPS, FIRST_HOUR, N_HOURS, GENERALISED, QUEUE, REROUTE, HAS_OUTSIDE, HAS_BUDGET, SURPLUS, NORMAL_NOISE = range(10)
DWELL_KIND, ENERGY_KIND = 10, 11
FIXED_VALUE, GAMMA, LOGNORMAL = 0, 1, 2
"""Kinds of a session quantity's distribution: ``a`` is the value, the shape, or ``mu``;
``b`` is unused, the scale, or ``sigma``."""


@dataclass(frozen=True)
class Packed:
    """A market's parameters as the kernels read them (see :func:`pack`)."""

    station: np.ndarray  # (len(STATION_ROWS), N) float64
    capacity: np.ndarray  # (N,) int64 chargers
    places: np.ndarray  # (N,) int64 chargers (+ waiting spaces when queueing)
    scalars: np.ndarray  # (len(SCALARS),) float64
    flags: np.ndarray  # (len(FLAGS),) int64
    ema_weights_per_h: np.ndarray  # (S,)
    expected_arrivals: np.ndarray  # (J,) market-wide arrivals expected in each sub-step
    substep_hour: np.ndarray  # (J,) int64 index into the episode's hourly series
    origin_cdf: np.ndarray  # (J, Z) per sub-step
    no_travel: np.ndarray  # (1, 1, N) the config's travel times, for periods without a road network

    @property
    def kernel_params(self) -> tuple:
        """The ``par`` tuple the period kernels take."""
        return (
            self.station,
            self.capacity,
            self.places,
            self.scalars,
            self.flags,
            self.ema_weights_per_h,
            self.expected_arrivals,
            self.origin_cdf,
        )


def _session_law(distribution: str, mean: float, cv: float) -> tuple[int, float, float]:
    """``(kind, a, b)`` of a session quantity, computed as numpy's ``positive_draws`` does."""
    if cv == 0.0:
        return FIXED_VALUE, float(mean), 0.0
    if distribution == "gamma":
        shape = 1.0 / (cv * cv)
        return GAMMA, shape, mean / shape
    sigma2 = np.log1p(cv * cv)
    return LOGNORMAL, float(np.log(mean) - 0.5 * sigma2), float(np.sqrt(sigma2))


def pack(params) -> Packed:
    """The flat arrays of ``params`` (a :class:`~evprice.market.params.MarketParams`)."""
    cfg = params.config
    generalised = cfg.driver_cost == "generalised"
    outside = cfg.outside_option_price_per_kwh if generalised else cfg.outside_option_utility
    from evprice.market.welfare import surplus_defined  # a leaf of the market layer

    station = np.stack(
        [
            params.power_kw,
            params.marginal_cost_per_kwh,
            params.fixed_cost_per_h,
            params.base_utility,
            params.travel_time_h,
            params.capacity.astype(np.float64),
        ]
    )
    dwell = _session_law(cfg.dwell_time_distribution, params.dwell_mean_s, cfg.dwell_time_cv)
    energy = _session_law(cfg.energy_demand_distribution, params.energy_mean_kwh, cfg.energy_demand_cv)
    scalars = np.zeros(len(SCALARS))
    scalars[[DT_S, HORIZON_S, START_S]] = params.dt_s, params.horizon_s, params.start_s
    scalars[BETA] = cfg.price_sensitivity
    scalars[CONGESTION] = cfg.congestion_sensitivity
    scalars[TRAVEL_PER_MIN] = cfg.travel_time_sensitivity * 60.0
    scalars[OUTSIDE_UTILITY] = cfg.outside_option_utility if cfg.outside_option_utility is not None else 0.0
    scalars[OUTSIDE_PRICE] = cfg.outside_option_price_per_kwh if cfg.outside_option_price_per_kwh is not None else 0.0
    scalars[OUTSIDE_TIME_H] = cfg.outside_option_time_h
    scalars[VOT_PER_H] = cfg.value_of_time_per_h
    scalars[TRAVEL_WEIGHT] = cfg.travel_time_weight
    scalars[BUDGET_H] = cfg.time_budget_h if cfg.time_budget_h is not None else 0.0
    scalars[DWELL_MEAN_H] = params.dwell_mean_s / 3600.0
    scalars[DWELL_SCV] = params.dwell_scv
    scalars[EFFICIENCY] = cfg.charging_efficiency
    scalars[EMA_DECAY] = params.ema_period_decay
    scalars[PERIOD_H] = cfg.action_period_s / 3600.0
    scalars[NOISE_SCALE] = cfg.noise_scale
    scalars[[DWELL_A, DWELL_B, ENERGY_A, ENERGY_B]] = dwell[1], dwell[2], energy[1], energy[2]
    flags = np.zeros(len(FLAGS), dtype=np.int64)
    flags[SUBSTEPS], flags[FIRST_HOUR], flags[N_HOURS] = params.substeps_per_period, params.first_hour, params.n_hours
    flags[GENERALISED] = generalised
    flags[QUEUE] = cfg.when_full == "queue"
    flags[REROUTE] = cfg.when_full == "reroute" or generalised  # generalised drivers see occupancy
    flags[HAS_OUTSIDE] = outside is not None
    flags[HAS_BUDGET] = cfg.time_budget_h is not None
    flags[SURPLUS] = surplus_defined(cfg.driver_cost, outside, cfg.price_sensitivity)
    flags[NORMAL_NOISE] = cfg.noise == "normal"
    flags[DWELL_KIND], flags[ENERGY_KIND] = dwell[0], energy[0]
    return Packed(
        station=np.ascontiguousarray(station, dtype=np.float64),
        capacity=np.ascontiguousarray(params.capacity, dtype=np.int64),
        places=np.ascontiguousarray(params.places, dtype=np.int64),
        scalars=scalars,
        flags=flags,
        ema_weights_per_h=np.ascontiguousarray(params.ema_rate_weights_per_h, dtype=np.float64),
        expected_arrivals=np.ascontiguousarray(params.expected_arrivals, dtype=np.float64),
        substep_hour=np.ascontiguousarray(params.substep_hour, dtype=np.int64),
        origin_cdf=np.ascontiguousarray(params.origin_cdf, dtype=np.float64),
        no_travel=np.ascontiguousarray(params.travel_time_h, dtype=np.float64).reshape(1, 1, -1),
    )
