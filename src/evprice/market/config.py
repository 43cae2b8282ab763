"""``MarketConfig``: every parameter of the public charging market, typed, frozen, validated.

Every field carries its unit in its name or in its metadata (``unit``) and a one-line
description (``doc``); ``evprice config`` prints them. Money is in ``currency`` units
(default CNY, the currency of the calibration data and of document 2).

Construct with keyword arguments, or from a mapping of overrides with
:meth:`MarketConfig.from_overrides`, which names unknown keys. A bad value raises
:class:`~evprice.core.config.ConfigError` naming the field, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evprice.core.config import (
    ConfigError,
    ConfigMixin,
    check_choice,
    check_float,
    check_hourly,
    check_int,
    check_scalar_or_list,
    config_field,
    invalid,
)
from evprice.market.profiles import (
    SECONDS_PER_HOUR,
    default_arrival_rates_per_h,
    sinusoid_price_profile_per_kwh,
)

NOISE_KINDS = ("gumbel", "normal")
DEMAND_MODES = ("sampled", "expected")
DISTRIBUTIONS = ("gamma", "lognormal")
WHEN_FULL = ("block", "reroute", "queue")
DRIVER_COSTS = ("utility", "generalised")
SESSION_SOURCES = ("independent", "calibrated")
REWARDS = ("team", "individual", "period", "ema")
OBJECTIVES = ("profit", "social_welfare")
UTILITY_ONLY_FIELDS = (
    "station_utility",
    "price_sensitivity",
    "congestion_sensitivity",
    "travel_time_sensitivity",
    "outside_option_utility",
)
"""Fields only utility-model drivers use (``driver_cost="utility"``)."""
GENERALISED_ONLY_FIELDS = (
    "value_of_time_per_h",
    "travel_time_weight",
    "outside_option_price_per_kwh",
    "outside_option_time_h",
    "time_budget_h",
)
"""Fields only generalised-cost drivers use (``driver_cost="generalised"``)."""
OBSERVABILITY = ("partial", "full")
ELEC_PRICE_NOISE_CLIP_STD = 3.0
"""Hourly wholesale-price noise is normal, clipped at this many standard deviations so the
price stays inside the observation bounds."""


MAX_ARRIVAL_RATE_PER_H = 10_000.0
"""Cap on the market-wide arrival rate: allocation loops over arrivals, so its cost grows
with the rate (about 10 times the busiest real public sites)."""
MIN_EFFICIENCY = 0.01
"""Lowest charging efficiency accepted: the grid draw is the energy delivered over it (real
chargers are 0.85-0.98; 1e-300 would overflow every grid quantity)."""
MIN_CV = 1e-3
"""Smallest non-zero coefficient of variation (gamma shape 1/cv^2 = 10^6); 0 means a fixed value."""


def _check_cv(name: str, value: Any) -> float:
    cv = check_float(name, value, low=0.0, high=10.0)
    if 0.0 < cv < MIN_CV:
        raise invalid(name, value, f"0 (a fixed value) or a number in [{MIN_CV:g}, 10]")
    return cv


_f = config_field


@dataclass(frozen=True)
class MarketConfig(ConfigMixin):
    """Configuration of the public charging market (``PublicCharging-v0``)."""

    ALLOWED_OBJECTIVES = OBJECTIVES  # a scenario with more objectives widens it

    # -- market size -------------------------------------------------------------------
    n_stations: int = _f(2, "1", "number of charging stations (agents station_1 ... station_N)")
    chargers_per_station: int | tuple[int, ...] = _f(
        4, "1", "chargers at each station (one number, or one per station)"
    )
    charger_power_kw: float | tuple[float, ...] = _f(
        30.0, "kW", "power of each charger (one number, or one per station)"
    )
    currency: str = _f("CNY", "-", "currency unit of every price, revenue and cost")

    # -- prices ------------------------------------------------------------------------
    price_min: float | tuple[float, ...] = _f(0.6, "currency/kWh", "lowest price a station may set (action -1)")
    price_max: float | tuple[float, ...] = _f(2.0, "currency/kWh", "highest price a station may set (action +1)")

    # -- time --------------------------------------------------------------------------
    dt_s: int = _f(60, "s", "internal simulation step; must divide 3600")
    action_period_s: int = _f(900, "s", "time between pricing decisions; a multiple of dt_s")
    horizon_h: float = _f(24.0, "h", "episode length; a multiple of action_period_s")
    start_hour: float = _f(0.0, "h", "time of day at which an episode starts, in [0, 24)")

    # -- demand ------------------------------------------------------------------------
    arrival_rate_per_h: float | tuple[float, ...] | None = _f(
        None,
        "EV/h",
        "market-wide Poisson arrival rate: one number, or 24 hourly numbers; "
        "None = the built-in daily profile with arrivals_per_station_per_day EVs per station",
    )
    arrivals_per_station_per_day: float = _f(
        45.0, "EV/day", "daily EVs per station of the built-in profile (used when arrival_rate_per_h is None)"
    )
    dwell_time_mean_h: float = _f(1.15, "h", "mean time an admitted EV stays plugged in")
    dwell_time_cv: float = _f(
        1.1, "1", "coefficient of variation of the dwell time (0 = fixed; gamma with cv 1 = exponential)"
    )
    dwell_time_distribution: str = _f(
        "gamma", "-", "family of the dwell time: 'gamma' or 'lognormal', with the mean and cv above"
    )
    energy_demand_mean_kwh: float = _f(21.8, "kWh", "mean energy an EV wants")
    energy_demand_cv: float = _f(0.66, "1", "coefficient of variation of the energy demand (0 = fixed)")
    energy_demand_distribution: str = _f("gamma", "-", "family of the energy demand: 'gamma' or 'lognormal'")
    sessions: str = _f(
        "independent",
        "-",
        "'independent': energy and dwell drawn independently as above; 'calibrated': evprice.data's joint model "
        "fitted to Paper_data; or the path of an EV_data1-format workbook, whose sessions are resampled. "
        "The last two set the four energy/dwell mean and cv fields from the sessions they draw",
    )

    # -- driver choice -----------------------------------------------------------------
    demand: str = _f(
        "sampled",
        "-",
        "'sampled': Poisson arrivals, sampled choices, finite chargers; 'expected': each period's "
        "demand is its expected logit share of the expected arrivals (no sampling, no capacity)",
    )
    station_utility: float | tuple[float, ...] = _f(
        0.0, "1", "systematic utility of each station besides price, congestion and travel (quality, location)"
    )
    price_sensitivity: float = _f(4.0, "1/(currency/kWh)", "utility lost per currency/kWh of price")
    congestion_sensitivity: float = _f(
        2.0,
        "1",
        "utility lost per unit of occupancy, EVs present / chargers; queued EVs count, so a queue takes it above 1 "
        "(0 = blind to occupancy)",
    )
    travel_time_min: tuple[float, ...] | None = _f(
        None, "min", "travel time to each station, one per station; None = no travel-time term"
    )
    travel_time_sensitivity: float = _f(0.05, "1/min", "utility lost per minute of travel")
    noise: str = _f("gumbel", "-", "idiosyncratic utility noise: 'gumbel' (multinomial logit) or 'normal' (probit)")
    noise_scale: float = _f(
        1.0,
        "1",
        "scale of the Gumbel noise, or standard deviation of the normal noise (currency with "
        "driver_cost='generalised'); 0 = no noise: every driver takes the best alternative",
    )
    outside_option_utility: float | None = _f(
        -5.5,
        "1",
        "systematic utility of not charging here (give up / charge elsewhere); None = no outside option",
    )
    when_full: str = _f(
        "block",
        "-",
        "a driver whose chosen station is full is 'block'ed, 'reroute's to the best station with a free charger, "
        "or 'queue's for the first charger to free (blocked only when every waiting space is taken)",
    )
    waiting_spaces: int | tuple[int, ...] = _f(
        0, "1", "EVs that may queue at each station with when_full='queue' (one number, or one per station)"
    )
    driver_cost: str = _f(
        "utility",
        "-",
        "'utility': the utility model above; 'generalised': drivers minimise price x energy + value_of_time x "
        "(travel_time_weight x travel time + expected wait, with when_full='queue'), with noise_scale in currency; "
        "they see occupancy, so with when_full='block' they choose among the stations with a free charger",
    )
    value_of_time_per_h: float = _f(
        30.0, "currency/h", "what an hour of travel or waiting costs a driver (generalised)"
    )
    travel_time_weight: float = _f(
        1.0, "1", "weight of travel time against waiting time in the generalised cost (document 2: 4)"
    )
    outside_option_price_per_kwh: float | None = _f(
        None,
        "currency/kWh",
        "generalised: price of charging elsewhere (the outside option); None = no outside option",
    )
    outside_option_time_h: float = _f(
        0.5, "h", "generalised: travel and waiting time of the outside option, valued at value_of_time_per_h"
    )
    time_budget_h: float | None = _f(
        None,
        "h",
        "generalised: a driver does not consider a station whose travel time + expected wait exceeds this; "
        "None = no limit",
    )
    origin_weights: tuple[float, ...] | None = _f(
        None,
        "1",
        "relative request rate of each origin zone (e.g. road node); None = one zone. Travel times per zone and "
        "station are passed to the world each period",
    )

    # -- electricity and costs ---------------------------------------------------------
    elec_price_per_kwh: tuple[float, ...] | None = _f(
        None, "currency/kWh", "24 hourly wholesale prices; None = the daily sinusoid below"
    )
    elec_price_mean_per_kwh: float = _f(0.65, "currency/kWh", "mean of the sinusoidal wholesale price")
    elec_price_amplitude_per_kwh: float = _f(0.25, "currency/kWh", "amplitude of the sinusoidal wholesale price")
    elec_price_peak_hour: float = _f(18.0, "h", "hour of day at which the sinusoidal wholesale price peaks")
    elec_price_noise_std_per_kwh: float = _f(
        0.03, "currency/kWh", "std of the independent hourly noise on the wholesale price (clipped at 3 std)"
    )
    charging_efficiency: float = _f(0.95, "1", "energy delivered to EVs per unit bought from the grid")
    marginal_cost_per_kwh: float | tuple[float, ...] = _f(
        0.0, "currency/kWh", "cost per kWh delivered on top of the wholesale energy (fees, wear), per station"
    )
    fixed_cost_per_h: float | tuple[float, ...] = _f(
        4.0, "currency/h", "fixed cost of each station (one number, or one per station)"
    )
    ema_time_constant_h: float = _f(1.0, "h", "time constant of the profit, revenue and cost EMAs")

    # -- learning interface ------------------------------------------------------------
    objective: str = _f(
        "profit",
        "-",
        "'profit': the reward below; 'social_welfare': consumer surplus + the stations' profit, the same reward for "
        "every station (see evprice.market.welfare)",
    )
    reward: str = _f(
        "team",
        "-",
        "objective 'profit': 'team', 'individual', 'period' or 'ema' (see evprice.market.reward)",
    )
    reward_scale_per_period: float | None = _f(
        None,
        "currency",
        "profit per period that counts as reward 1 for a station; None = its maximum revenue in a period",
    )
    observability: str = _f("partial", "-", "'partial' (public + own features) or 'full' (+ other stations' status)")
    leader: str | None = _f(
        None,
        "-",
        "Stackelberg leader ('station_k'): it commits its price one period ahead, announced to every station; "
        "None = all stations price simultaneously",
    )

    def __post_init__(self) -> None:
        s = self._set
        s("n_stations", check_int("n_stations", self.n_stations, low=1, high=1000))
        n = self.n_stations
        s("chargers_per_station", self._per_station_int("chargers_per_station", low=1, high=10_000))
        s("charger_power_kw", self._per_station_float("charger_power_kw", low=0.0, low_open=True))
        if not isinstance(self.currency, str) or not self.currency.strip():
            raise invalid("currency", self.currency, "a non-empty currency label such as 'CNY'")
        s("price_min", self._per_station_float("price_min", low=0.0))
        s("price_max", self._per_station_float("price_max", low=0.0))
        for i, (lo, hi) in enumerate(zip(self.price_min, self.price_max)):
            if not hi > lo:
                raise ConfigError(
                    f"price_max={self.price_max!r} is invalid: expected price_max > price_min "
                    f"for every station (station {i + 1}: {hi:g} <= {lo:g})"
                )

        s("dt_s", check_int("dt_s", self.dt_s, low=1, high=SECONDS_PER_HOUR))
        if SECONDS_PER_HOUR % self.dt_s:
            raise invalid("dt_s", self.dt_s, "an integer number of seconds in [1, 3600] that divides 3600")
        s("action_period_s", check_int("action_period_s", self.action_period_s, low=1))
        if self.action_period_s % self.dt_s:
            raise invalid("action_period_s", self.action_period_s, f"a positive multiple of dt_s={self.dt_s}")
        s("horizon_h", check_float("horizon_h", self.horizon_h, low=0.0, low_open=True, high=24.0 * 366))
        horizon_s = self.horizon_h * SECONDS_PER_HOUR
        if abs(horizon_s - round(horizon_s)) > 1e-6 or round(horizon_s) % self.action_period_s:
            raise invalid(
                "horizon_h",
                self.horizon_h,
                f"a positive multiple of action_period_s={self.action_period_s} s, in hours",
            )
        s("start_hour", check_float("start_hour", self.start_hour, low=0.0, high=24.0, high_open=True))
        start_s = self.start_hour * SECONDS_PER_HOUR
        if abs(start_s - round(start_s)) > 1e-6 or round(start_s) % self.dt_s:
            raise invalid("start_hour", self.start_hour, f"an hour in [0, 24) that is a multiple of dt_s={self.dt_s} s")

        s(
            "arrivals_per_station_per_day",
            check_float(
                "arrivals_per_station_per_day",
                self.arrivals_per_station_per_day,
                low=0.0,
                high=MAX_ARRIVAL_RATE_PER_H / self.n_stations,
            ),
        )
        if self.arrival_rate_per_h is not None:
            s(
                "arrival_rate_per_h",
                check_hourly("arrival_rate_per_h", self.arrival_rate_per_h, low=0.0, high=MAX_ARRIVAL_RATE_PER_H),
            )
        s("dwell_time_mean_h", check_float("dwell_time_mean_h", self.dwell_time_mean_h, low=0.0, low_open=True))
        s("dwell_time_cv", _check_cv("dwell_time_cv", self.dwell_time_cv))
        s(
            "energy_demand_mean_kwh",
            check_float("energy_demand_mean_kwh", self.energy_demand_mean_kwh, low=0.0, low_open=True),
        )
        s("energy_demand_cv", _check_cv("energy_demand_cv", self.energy_demand_cv))
        check_choice("dwell_time_distribution", self.dwell_time_distribution, DISTRIBUTIONS)
        if not isinstance(self.sessions, str) or (
            self.sessions not in SESSION_SOURCES and not Path(self.sessions).is_file()
        ):
            allowed = "'independent', 'calibrated' or the path of an existing EV_data1-format .xlsx"
            raise invalid("sessions", self.sessions, allowed)
        check_choice("energy_demand_distribution", self.energy_demand_distribution, DISTRIBUTIONS)

        check_choice("demand", self.demand, DEMAND_MODES)
        s("station_utility", self._per_station_float("station_utility"))
        s("price_sensitivity", check_float("price_sensitivity", self.price_sensitivity, low=0.0))
        s("congestion_sensitivity", check_float("congestion_sensitivity", self.congestion_sensitivity, low=0.0))
        if self.travel_time_min is not None:
            s(
                "travel_time_min",
                check_scalar_or_list(
                    "travel_time_min",
                    self.travel_time_min,
                    n,
                    lambda k, v: check_float(k, v, low=0.0),
                    "a travel time >= 0 in minutes",
                ),
            )
        s("travel_time_sensitivity", check_float("travel_time_sensitivity", self.travel_time_sensitivity, low=0.0))
        check_choice("noise", self.noise, NOISE_KINDS)
        s("noise_scale", check_float("noise_scale", self.noise_scale, low=0.0))
        if self.outside_option_utility is not None:
            s("outside_option_utility", check_float("outside_option_utility", self.outside_option_utility))
        check_choice("when_full", self.when_full, WHEN_FULL)
        s("waiting_spaces", self._per_station_int("waiting_spaces", low=0, high=10_000))
        check_choice("driver_cost", self.driver_cost, DRIVER_COSTS)
        s("value_of_time_per_h", check_float("value_of_time_per_h", self.value_of_time_per_h, low=0.0))
        s("travel_time_weight", check_float("travel_time_weight", self.travel_time_weight, low=0.0))
        if self.outside_option_price_per_kwh is not None:
            s(
                "outside_option_price_per_kwh",
                check_float("outside_option_price_per_kwh", self.outside_option_price_per_kwh, low=0.0),
            )
        s("outside_option_time_h", check_float("outside_option_time_h", self.outside_option_time_h, low=0.0))
        if self.time_budget_h is not None:
            s("time_budget_h", check_float("time_budget_h", self.time_budget_h, low=0.0, low_open=True))
        if self.origin_weights is not None:
            w = self.origin_weights
            if isinstance(w, (str, bytes)) or not hasattr(w, "__iter__") or len(list(w)) == 0:
                raise invalid("origin_weights", w, "a non-empty list of weights >= 0 with a positive sum, or None")
            checked = tuple(check_float(f"origin_weights[{i}]", v, low=0.0) for i, v in enumerate(w))
            if not sum(checked) > 0:
                raise invalid("origin_weights", w, "a non-empty list of weights >= 0 with a positive sum, or None")
            s("origin_weights", checked)

        if self.elec_price_per_kwh is not None:
            s("elec_price_per_kwh", check_hourly("elec_price_per_kwh", self.elec_price_per_kwh, broadcast=False))
        s("elec_price_mean_per_kwh", check_float("elec_price_mean_per_kwh", self.elec_price_mean_per_kwh))
        s(
            "elec_price_amplitude_per_kwh",
            check_float("elec_price_amplitude_per_kwh", self.elec_price_amplitude_per_kwh, low=0.0),
        )
        s(
            "elec_price_peak_hour",
            check_float("elec_price_peak_hour", self.elec_price_peak_hour, low=0.0, high=24.0, high_open=True),
        )
        s(
            "elec_price_noise_std_per_kwh",
            check_float("elec_price_noise_std_per_kwh", self.elec_price_noise_std_per_kwh, low=0.0),
        )
        s(
            "charging_efficiency",
            check_float("charging_efficiency", self.charging_efficiency, low=MIN_EFFICIENCY, high=1.0),
        )
        s("marginal_cost_per_kwh", self._per_station_float("marginal_cost_per_kwh"))
        s("fixed_cost_per_h", self._per_station_float("fixed_cost_per_h", low=0.0))
        s("ema_time_constant_h", check_float("ema_time_constant_h", self.ema_time_constant_h, low=0.0, low_open=True))

        check_choice("reward", self.reward, REWARDS)
        if self.reward_scale_per_period is not None:
            s(
                "reward_scale_per_period",
                check_float("reward_scale_per_period", self.reward_scale_per_period, low=0.0, low_open=True),
            )
        check_choice("observability", self.observability, OBSERVABILITY)
        if self.leader is not None:
            if self.leader not in self.agent_ids:
                raise invalid("leader", self.leader, f"None or a station id in {list(self.agent_ids)}")
            if self.n_stations < 2:
                raise invalid("leader", self.leader, "None with a single station (a leader needs a follower)")
        if self.when_full != "queue" and any(self.waiting_spaces):
            raise ConfigError(
                f"waiting_spaces={self.waiting_spaces!r} is invalid with when_full={self.when_full!r}: "
                "waiting spaces exist only with when_full='queue' (set it, or waiting_spaces=0)"
            )
        self._refuse_ignored_driver_fields()
        if self.driver_cost == "generalised" and self.when_full == "reroute":
            raise ConfigError(
                "when_full='reroute' is invalid with driver_cost='generalised': generalised drivers see every "
                "station's occupancy and never choose a full one, so rerouting would never happen; use 'block' "
                "(they choose among the stations with a free charger) or 'queue'"
            )
        check_choice("objective", self.objective, self.ALLOWED_OBJECTIVES)
        if self.objective != "profit" and self.reward != "team":
            raise ConfigError(
                f"reward={self.reward!r} is invalid with objective={self.objective!r}: that objective is one number "
                "for the market, every station's reward, so reward has no effect; leave it at 'team'"
            )
        if self.objective == "social_welfare":
            self._check_welfare_defined()
        if self.demand == "expected":
            # the expected-demand mode has closed-form logit shares and no queue
            if self.when_full == "queue" or self.origin_weights is not None:
                raise ConfigError(
                    f"when_full={self.when_full!r}, origin_weights={self.origin_weights!r} is invalid with "
                    "demand='expected': expected demand has no queue and one origin zone"
                )
            if self.driver_cost != "utility" or self.noise_scale == 0.0:
                raise ConfigError(
                    f"driver_cost={self.driver_cost!r}, noise_scale={self.noise_scale!r} is invalid with "
                    "demand='expected': expected shares are the logit shares of the utility model, so "
                    "driver_cost must be 'utility' and noise_scale > 0"
                )
            if self.noise != "gumbel":
                raise ConfigError(
                    f"noise={self.noise!r} is invalid with demand='expected': expected shares are the "
                    "multinomial-logit ones, so noise must be 'gumbel'"
                )
            if self.congestion_sensitivity != 0.0:
                raise ConfigError(
                    f"congestion_sensitivity={self.congestion_sensitivity!r} is invalid with demand='expected': "
                    "expected demand has no chargers to congest, so it must be 0"
                )

    # -- validation helpers ------------------------------------------------------------
    def _is_default(self, name: str) -> bool:
        """Whether field ``name`` holds its default (a per-station default broadcast to every station)."""
        default = {f.name: f.default for f in dataclasses.fields(self)}[name]
        value = getattr(self, name)
        if isinstance(value, tuple) and not isinstance(default, tuple):
            return all(v == default for v in value)
        return value == default

    def ignored_fields(self) -> tuple[str, ...]:
        """The driver-model fields this configuration's ``driver_cost`` does not use."""
        return self.unused_fields({"driver_cost": self.driver_cost})

    @classmethod
    def unused_fields(cls, values: Mapping[str, Any]) -> tuple[str, ...]:
        """The driver-model fields a configuration of these ``values`` would not use.

        A scenario's registry drops its own defaults for them when an override switches the
        driver model (``CoupledNetwork-v0`` with ``driver_cost="utility"``), so that only what
        the user set can be refused.
        """
        utility = values.get("driver_cost", "utility") == "utility"
        return GENERALISED_ONLY_FIELDS if utility else UTILITY_ONLY_FIELDS

    def _refuse_ignored_driver_fields(self) -> None:
        """A driver-model field set away from its default in the mode that ignores it is refused."""
        used_by = "generalised" if self.driver_cost == "utility" else "utility"
        for name in self.ignored_fields():
            if not self._is_default(name):
                raise ConfigError(
                    f"{name}={getattr(self, name)!r} is invalid with driver_cost={self.driver_cost!r}: it has no "
                    f"effect there (only driver_cost={used_by!r} drivers use it); remove it, or set "
                    f"driver_cost={used_by!r}"
                )

    def _check_welfare_defined(self) -> None:
        """``objective="social_welfare"``: consumer surplus needs an outside option and a money value of utility."""
        if self.driver_cost == "utility":
            if self.outside_option_utility is None:
                raise ConfigError(
                    "objective='social_welfare' is invalid with outside_option_utility=None: consumer surplus is "
                    "measured against not charging here, which needs an outside option; set outside_option_utility"
                )
            if self.price_sensitivity == 0.0:
                raise ConfigError(
                    "objective='social_welfare' is invalid with price_sensitivity=0: utility is turned into "
                    "money through the price coefficient, so it must be > 0"
                )
        elif self.outside_option_price_per_kwh is None:
            raise ConfigError(
                "objective='social_welfare' is invalid with outside_option_price_per_kwh=None: consumer surplus is "
                "the generalised cost saved against charging elsewhere; set outside_option_price_per_kwh"
            )

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def _per_station_float(self, name: str, **bounds: Any) -> tuple[float, ...]:
        check = lambda k, v: check_float(k, v, **bounds)  # noqa: E731
        return check_scalar_or_list(name, getattr(self, name), self.n_stations, check, "a finite number")

    def _per_station_int(self, name: str, **bounds: Any) -> tuple[int, ...]:
        check = lambda k, v: check_int(k, v, **bounds)  # noqa: E731
        return check_scalar_or_list(name, getattr(self, name), self.n_stations, check, "an integer")

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
        return 1 if self.origin_weights is None else len(self.origin_weights)

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
