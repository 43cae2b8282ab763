"""``MarketConfig``: every parameter of the public charging market, typed, frozen, validated.

Every field declares its unit, a one-line description, its section and what it accepts
(:mod:`evprice.core.declared`; the limits and their reasons are in :mod:`evprice.market.limits`,
the rules between fields in :mod:`evprice.market.rules`); ``evprice config`` prints them.
Money is in ``currency`` units (default CNY, the currency of the calibration data and of
document 2). Construct with keyword arguments, or with :meth:`MarketConfig.from_overrides`
(keys flat, dotted or in sections). A bad value raises
:class:`~evprice.core.config.ConfigError` naming the field, the value and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from evprice.core.declared import ConfigMixin, choice, config_field, integer, number
from evprice.core.timing import HOURS_PER_DAY
from evprice.market.limits import (
    ARRIVALS_REASON,
    CV_REASON,
    DEMAND_MODES,
    DISTRIBUTIONS,
    DRIVER_COSTS,
    ELEC_PRICE_NOISE_CLIP_STD,
    MAX_ARRIVAL_RATE_PER_H,
    MAX_CHARGER_POWER_KW,
    MAX_CV,
    MAX_ENERGY_KWH,
    MAX_HORIZON_H,
    MAX_HORIZON_S,
    MAX_MONEY_PER_H,
    MAX_PRICE_PER_KWH,
    MAX_UTILITY,
    MIN_EFFICIENCY,
    MINUTES_PER_DAY,
    MONEY_REASON,
    NOISE_KINDS,
    OBJECTIVES,
    OBSERVABILITY,
    PRICE_REASON,
    REWARDS,
    TIME_REASON,
    UTILITY_REASON,
    WHEN_FULL,
)
from evprice.market.profiles import SECONDS_PER_HOUR, default_arrival_rates_per_h, sinusoid_price_profile_per_kwh
from evprice.market.protocol import (
    deviation_cost_field,
    mediator_reward_field,
    message_dim_field,
    n_symbols_field,
    protocol_field,
)
from evprice.market.rules import check_market_rules

_UTILITY = ("driver_cost", ("utility",))
_UTILITY_WHY = "only driver_cost='utility' drivers use it"
_GENERALISED = ("driver_cost", ("generalised",))
_GENERALISED_WHY = "only driver_cost='generalised' drivers use it"
_SINUSOID = {"used_when": ("elec_price_per_kwh", (None,)), "unused_why": "elec_price_per_kwh replaces the sinusoid"}
_market = partial(config_field, section="market")
_arrivals = partial(config_field, section="arrivals")
_drivers = partial(config_field, section="drivers")
_costs = partial(config_field, section="costs")
_learning = partial(config_field, section="learning")


@dataclass(frozen=True)
class MarketConfig(ConfigMixin):
    """Configuration of the public charging market (``PublicCharging-v0``)."""

    ALLOWED_OBJECTIVES = OBJECTIVES  # a scenario with more objectives widens it

    # -- market size -------------------------------------------------------------------
    n_stations: int = _market(
        2,
        "1",
        "number of charging stations (agents station_1 ... station_N)",
        integer(1, 1000, reason="every driver compares every station; no operator prices 1,000 sites on one market"),
    )
    chargers_per_station: int | tuple[int, ...] = _market(
        4,
        "1",
        "chargers at each station (one number, or one per station)",
        integer(1, 10_000, shape="station", reason="the largest charging parks hold a few hundred chargers"),
    )
    charger_power_kw: float | tuple[float, ...] = _market(
        30.0,
        "kW",
        "power of each charger (one number, or one per station)",
        number(0.0, MAX_CHARGER_POWER_KW, low_open=True, shape="station", reason="megawatt chargers reach 3.75 MW"),
    )
    currency: str = _market("CNY", "-", "currency unit of every price, revenue and cost")

    # -- prices ------------------------------------------------------------------------
    price_min: float | tuple[float, ...] = _market(
        0.6,
        "currency/kWh",
        "lowest price a station may set (action -1)",
        number(0.0, MAX_PRICE_PER_KWH, shape="station", reason=PRICE_REASON),
    )
    price_max: float | tuple[float, ...] = _market(
        2.0,
        "currency/kWh",
        "highest price a station may set (action +1)",
        number(0.0, MAX_PRICE_PER_KWH, shape="station", reason=PRICE_REASON),
    )

    # -- time --------------------------------------------------------------------------
    dt_s: int = _market(
        60,
        "s",
        "internal simulation step; must divide 3600",
        integer(1, SECONDS_PER_HOUR, reason="hourly arrival rates and prices change on the hour"),
    )
    action_period_s: int = _market(
        900,
        "s",
        "time between pricing decisions; a multiple of dt_s",
        integer(1, MAX_HORIZON_S, reason="no longer than the longest episode"),
    )
    horizon_h: float = _market(
        24.0,
        "h",
        "episode length; a multiple of action_period_s",
        number(0.0, MAX_HORIZON_H, low_open=True, reason="a leap year; longer runs are several episodes"),
    )
    start_hour: float = _market(
        0.0,
        "h",
        "time of day at which an episode starts, in [0, 24)",
        number(0.0, 24.0, high_open=True, reason="an hour of the day"),
    )

    # -- demand ------------------------------------------------------------------------
    arrival_rate_per_h: float | tuple[float, ...] | None = _arrivals(
        None,
        "EV/h",
        "market-wide Poisson arrival rate: one number, or 24 hourly numbers; "
        "None = the built-in daily profile with arrivals_per_station_per_day EVs per station",
        number(0.0, MAX_ARRIVAL_RATE_PER_H, shape="hourly", optional=True, reason=ARRIVALS_REASON),
    )
    arrivals_per_station_per_day: float = _arrivals(
        45.0,
        "EV/day",
        "daily EVs per station of the built-in profile (used when arrival_rate_per_h is None)",
        number(
            0.0,
            lambda c: MAX_ARRIVAL_RATE_PER_H / c.n_stations,
            reason=ARRIVALS_REASON,
            used_when=("arrival_rate_per_h", (None,)),
            unused_why="arrival_rate_per_h replaces the built-in profile",
        ),
    )
    dwell_time_mean_h: float = _arrivals(
        1.15,
        "h",
        "mean time an admitted EV stays plugged in",
        number(0.0, MAX_HORIZON_H, low_open=True, reason="an EV that stays longer than an episode never leaves it"),
    )
    dwell_time_cv: float = _arrivals(
        1.1,
        "1",
        "coefficient of variation of the dwell time (0 = fixed; gamma with cv 1 = exponential)",
        number(0.0, MAX_CV, reason=CV_REASON),
    )
    dwell_time_distribution: str = _arrivals(
        "gamma",
        "-",
        "family of the dwell time: 'gamma' or 'lognormal', with the mean and cv above",
        choice(DISTRIBUTIONS),
    )
    energy_demand_mean_kwh: float = _arrivals(
        21.8,
        "kWh",
        "mean energy an EV wants",
        number(0.0, MAX_ENERGY_KWH, low_open=True, reason="the largest electric trucks hold about 1 MWh"),
    )
    energy_demand_cv: float = _arrivals(
        0.66,
        "1",
        "coefficient of variation of the energy demand (0 = fixed)",
        number(0.0, MAX_CV, reason=CV_REASON),
    )
    energy_demand_distribution: str = _arrivals(
        "gamma", "-", "family of the energy demand: 'gamma' or 'lognormal'", choice(DISTRIBUTIONS)
    )
    sessions: str = _arrivals(
        "independent",
        "-",
        "'independent': energy and dwell drawn independently as above; 'calibrated': evprice.data's joint model "
        "fitted to Paper_data; or the path of an EV_data1-format workbook, whose sessions are resampled. "
        "The last two set the four energy/dwell mean and cv fields from the sessions they draw",
    )

    # -- driver choice -----------------------------------------------------------------
    demand: str = _drivers(
        "sampled",
        "-",
        "'sampled': Poisson arrivals, sampled choices, finite chargers; 'expected': each period's "
        "demand is its expected logit share of the expected arrivals (no sampling, no capacity)",
        choice(DEMAND_MODES),
    )
    station_utility: float | tuple[float, ...] = _drivers(
        0.0,
        "1",
        "systematic utility of each station besides price, congestion and travel (quality, location)",
        number(
            -MAX_UTILITY,
            MAX_UTILITY,
            shape="station",
            reason=UTILITY_REASON,
            used_when=_UTILITY,
            unused_why=_UTILITY_WHY,
        ),
    )
    price_sensitivity: float = _drivers(
        4.0,
        "1/(currency/kWh)",
        "utility lost per currency/kWh of price",
        number(0.0, MAX_UTILITY, reason=UTILITY_REASON, used_when=_UTILITY, unused_why=_UTILITY_WHY),
    )
    congestion_sensitivity: float = _drivers(
        2.0,
        "1",
        "utility lost per unit of occupancy, EVs present / chargers; queued EVs count, so a queue takes it above 1 "
        "(0 = blind to occupancy)",
        number(0.0, MAX_UTILITY, reason=UTILITY_REASON, used_when=_UTILITY, unused_why=_UTILITY_WHY),
    )
    travel_time_min: tuple[float, ...] | None = _drivers(
        None,
        "min",
        "travel time to each station, one per station; None = no travel-time term",
        number(0.0, MINUTES_PER_DAY, shape="station", optional=True, reason="no driver travels a day to charge"),
    )
    travel_time_sensitivity: float = _drivers(
        0.05,
        "1/min",
        "utility lost per minute of travel",
        number(0.0, MAX_UTILITY, reason=UTILITY_REASON, used_when=_UTILITY, unused_why=_UTILITY_WHY),
    )
    noise: str = _drivers(
        "gumbel",
        "-",
        "idiosyncratic utility noise: 'gumbel' (multinomial logit) or 'normal' (probit)",
        choice(NOISE_KINDS),
    )
    noise_scale: float = _drivers(
        1.0,
        "1",
        "scale of the Gumbel noise, or standard deviation of the normal noise (currency with "
        "driver_cost='generalised'); 0 = no noise: every driver takes the best alternative",
        number(0.0, MAX_UTILITY, reason=UTILITY_REASON),
    )
    outside_option_utility: float | None = _drivers(
        -5.5,
        "1",
        "systematic utility of not charging here (give up / charge elsewhere); None = no outside option",
        number(
            -MAX_UTILITY,
            MAX_UTILITY,
            optional=True,
            reason=UTILITY_REASON,
            used_when=_UTILITY,
            unused_why=_UTILITY_WHY,
        ),
    )
    when_full: str = _drivers(
        "block",
        "-",
        "a driver whose chosen station is full is 'block'ed, 'reroute's to the best station with a free charger, "
        "or 'queue's for the first charger to free (blocked only when every waiting space is taken)",
        choice(WHEN_FULL),
    )
    waiting_spaces: int | tuple[int, ...] = _drivers(
        0,
        "1",
        "EVs that may queue at each station with when_full='queue' (one number, or one per station)",
        integer(
            0,
            10_000,
            shape="station",
            reason="a forecourt or car park, not a city",
            used_when=("when_full", ("queue",)),
            unused_why="waiting spaces exist only with when_full='queue'",
        ),
    )
    driver_cost: str = _drivers(
        "utility",
        "-",
        "'utility': the utility model above; 'generalised': drivers minimise price x energy + value_of_time x "
        "(travel_time_weight x travel time + expected wait, with when_full='queue'), with noise_scale in currency; "
        "they see occupancy, so with when_full='block' they choose among the stations with a free charger",
        choice(DRIVER_COSTS),
    )
    value_of_time_per_h: float = _drivers(
        30.0,
        "currency/h",
        "what an hour of travel or waiting costs a driver (generalised)",
        number(0.0, MAX_MONEY_PER_H, reason=MONEY_REASON, used_when=_GENERALISED, unused_why=_GENERALISED_WHY),
    )
    travel_time_weight: float = _drivers(
        1.0,
        "1",
        "weight of travel time against waiting time in the generalised cost (document 2: 4)",
        number(0.0, 100.0, reason="a weight of time against time", used_when=_GENERALISED, unused_why=_GENERALISED_WHY),
    )
    outside_option_price_per_kwh: float | None = _drivers(
        None,
        "currency/kWh",
        "generalised: price of charging elsewhere (the outside option); None = no outside option",
        number(
            0.0,
            MAX_PRICE_PER_KWH,
            optional=True,
            reason=PRICE_REASON,
            used_when=_GENERALISED,
            unused_why=_GENERALISED_WHY,
        ),
    )
    outside_option_time_h: float = _drivers(
        0.5,
        "h",
        "generalised: travel and waiting time of the outside option, valued at value_of_time_per_h",
        number(0.0, HOURS_PER_DAY, reason=TIME_REASON, used_when=_GENERALISED, unused_why=_GENERALISED_WHY),
    )
    time_budget_h: float | None = _drivers(
        None,
        "h",
        "generalised: a driver does not consider a station whose travel time + expected wait exceeds this; "
        "None = no limit",
        number(
            0.0,
            HOURS_PER_DAY,
            low_open=True,
            optional=True,
            reason=TIME_REASON,
            used_when=_GENERALISED,
            unused_why=_GENERALISED_WHY,
        ),
    )
    origin_weights: tuple[float, ...] | tuple[tuple[float, ...], ...] | None = _drivers(
        None,
        "1",
        "relative request rate of each origin zone (e.g. road node): one list, or 24 lists (one per hour of the "
        "day: each zone's own daily profile); the market's hourly rate sets the total. None = one zone. Travel "
        "times per zone and station are passed to the world each period",
        number(
            0.0,
            1e6,
            shape="list_or_hourly_lists",
            optional=True,
            reason="relative weights; each hour's sum must be positive",
        ),
    )

    # -- electricity and costs ---------------------------------------------------------
    elec_price_per_kwh: tuple[float, ...] | None = _costs(
        None,
        "currency/kWh",
        "24 hourly wholesale prices; None = the daily sinusoid below",
        number(
            -MAX_PRICE_PER_KWH,
            MAX_PRICE_PER_KWH,
            shape="hourly_list",
            optional=True,
            reason="wholesale prices may be negative; " + PRICE_REASON,
        ),
    )
    elec_price_mean_per_kwh: float = _costs(
        0.65,
        "currency/kWh",
        "mean of the sinusoidal wholesale price",
        number(-MAX_PRICE_PER_KWH, MAX_PRICE_PER_KWH, reason=PRICE_REASON, **_SINUSOID),
    )
    elec_price_amplitude_per_kwh: float = _costs(
        0.25,
        "currency/kWh",
        "amplitude of the sinusoidal wholesale price",
        number(0.0, MAX_PRICE_PER_KWH, reason=PRICE_REASON, **_SINUSOID),
    )
    elec_price_peak_hour: float = _costs(
        18.0,
        "h",
        "hour of day at which the sinusoidal wholesale price peaks",
        number(0.0, 24.0, high_open=True, reason="an hour of the day", **_SINUSOID),
    )
    elec_price_noise_std_per_kwh: float = _costs(
        0.03,
        "currency/kWh",
        "std of the independent hourly noise on the wholesale price (clipped at 3 std)",
        number(0.0, MAX_PRICE_PER_KWH, reason=PRICE_REASON),
    )
    charging_efficiency: float = _costs(
        0.95,
        "1",
        "energy delivered to EVs per unit bought from the grid",
        number(MIN_EFFICIENCY, 1.0, reason="real chargers are 0.85-0.98; the grid draw divides by it"),
    )
    marginal_cost_per_kwh: float | tuple[float, ...] = _costs(
        0.0,
        "currency/kWh",
        "cost per kWh delivered on top of the wholesale energy (fees, wear), per station",
        number(-MAX_PRICE_PER_KWH, MAX_PRICE_PER_KWH, shape="station", reason="a subsidy may make it negative"),
    )
    fixed_cost_per_h: float | tuple[float, ...] = _costs(
        4.0,
        "currency/h",
        "fixed cost of each station (one number, or one per station)",
        number(0.0, MAX_MONEY_PER_H, shape="station", reason=MONEY_REASON),
    )
    ema_time_constant_h: float = _costs(
        1.0,
        "h",
        "time constant of the profit, revenue and cost EMAs",
        number(0.0, MAX_HORIZON_H, low_open=True, reason="an average over more than an episode never moves"),
    )

    # -- learning interface ------------------------------------------------------------
    objective: str = _learning(
        "profit",
        "-",
        "'profit': the reward below; 'social_welfare': consumer surplus + the stations' profit, the same reward for "
        "every station (see evprice.market.welfare)",
        choice("ALLOWED_OBJECTIVES"),
    )
    reward: str = _learning(
        "team",
        "-",
        "objective 'profit': 'team', 'individual', 'period' or 'ema' (see evprice.market.reward)",
        choice(REWARDS),
    )
    reward_scale_per_period: float | None = _learning(
        None,
        "currency",
        "profit per period that counts as reward 1 for a station; None = its maximum revenue in a period",
        number(0.0, low_open=True, optional=True, reason="a scale of money; rewards divide by it"),
    )
    observability: str = _learning(
        "partial",
        "-",
        "'partial' (public + own features) or 'full' (+ other stations' status)",
        choice(OBSERVABILITY),
    )
    leader: str | None = _market(
        None,
        "-",
        "Stackelberg leader ('station_k'): it commits its price one period ahead, announced to every station; "
        "None = all stations price simultaneously",
    )
    protocol: str = protocol_field()
    message_dim: int = message_dim_field()
    n_symbols: int = n_symbols_field()
    deviation_cost: float = deviation_cost_field()
    mediator_reward: str = mediator_reward_field()

    def __post_init__(self) -> None:
        self.check_declared()
        check_market_rules(self)

    # -- validation helpers ------------------------------------------------------------
    def ignored_fields(self) -> tuple[str, ...]:
        """The driver-model fields this configuration's ``driver_cost`` does not use."""
        return tuple(n for n, why in self.unused_here().items() if why.startswith("driver_cost="))

    # -- derived quantities ------------------------------------------------------------
    @property
    def substeps_per_period(self) -> int:
        return self.action_period_s // self.dt_s

    @property
    def horizon_s(self) -> int:
        return round(self.horizon_h * SECONDS_PER_HOUR)

    @property
    def start_s(self) -> int:
        return round(self.start_hour * SECONDS_PER_HOUR)

    @property
    def n_origins(self) -> int:
        """Origin zones of the requests (1 when ``origin_weights`` is None)."""
        return 1 if self.origin_weights is None else self.origin_weights_by_hour().shape[1]

    def origin_weights_by_hour(self) -> np.ndarray:
        """(24, Z) relative request rate of each origin zone in each hour of the day: the
        hourly rows of ``origin_weights``, or its one list in every hour (one zone: ones)."""
        if self.origin_weights is None:
            return np.ones((HOURS_PER_DAY, 1))
        weights = np.asarray(self.origin_weights, dtype=np.float64)
        return weights if weights.ndim == 2 else np.broadcast_to(weights, (HOURS_PER_DAY, weights.size)).copy()

    @property
    def n_periods(self) -> int:
        return self.horizon_s // self.action_period_s

    @property
    def agent_ids(self) -> tuple[str, ...]:
        return tuple(f"station_{i + 1}" for i in range(self.n_stations))

    @property
    def leader_index(self) -> int | None:
        """0-based index of the Stackelberg leader, None without one."""
        return None if self.leader is None else self.agent_ids.index(self.leader)

    def arrival_rates_per_h(self) -> np.ndarray:
        """Resolved market-wide hourly arrival rates, EV/h, shape ``(24,)``."""
        if self.arrival_rate_per_h is None:
            return default_arrival_rates_per_h(self.n_stations, self.arrivals_per_station_per_day)
        return np.asarray(self.arrival_rate_per_h, dtype=np.float64)

    def elec_price_profile_per_kwh(self) -> np.ndarray:
        """Resolved hourly wholesale price before noise, currency/kWh, shape ``(24,)``."""
        if self.elec_price_per_kwh is not None:
            return np.asarray(self.elec_price_per_kwh, dtype=np.float64)
        return sinusoid_price_profile_per_kwh(
            self.elec_price_mean_per_kwh, self.elec_price_amplitude_per_kwh, self.elec_price_peak_hour
        )

    def elec_price_bounds_per_kwh(self) -> tuple[float, float]:
        """Range the noisy wholesale price can take, currency/kWh."""
        profile = self.elec_price_profile_per_kwh()
        margin = ELEC_PRICE_NOISE_CLIP_STD * self.elec_price_noise_std_per_kwh
        return float(profile.min() - margin), float(profile.max() + margin)
