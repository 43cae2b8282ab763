"""The rules of a :class:`~evprice.market.config.MarketConfig` that relate several fields.

One field's range, choices and shape are declared on the field itself and checked by
:meth:`~evprice.core.config.ConfigMixin.check_declared`; what is left here are the rules
between fields (``price_max > price_min``, a horizon that is a whole number of periods, a
driver model that the demand mode supports), each raising a
:class:`~evprice.core.config.ConfigError` that names the fields and what would be allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from evprice.core.config import ConfigError, invalid
from evprice.market.limits import MAX_CV, MIN_CV, SESSION_SOURCES
from evprice.market.profiles import SECONDS_PER_HOUR
from evprice.market.protocol import check_protocol

if TYPE_CHECKING:
    from evprice.market.config import MarketConfig


def check_market_rules(cfg: MarketConfig) -> None:
    """Raise a :class:`ConfigError` for the first rule between fields that ``cfg`` breaks."""
    if not isinstance(cfg.currency, str) or not cfg.currency.strip():
        raise invalid("currency", cfg.currency, "a non-empty currency label such as 'CNY'")
    for i, (lo, hi) in enumerate(zip(cfg.price_min, cfg.price_max)):
        if not hi > lo:
            raise ConfigError(
                f"price_max={cfg.price_max!r} is invalid: expected price_max > price_min "
                f"for every station (station {i + 1}: {hi:g} <= {lo:g})"
            )
    if SECONDS_PER_HOUR % cfg.dt_s:
        raise invalid("dt_s", cfg.dt_s, "an integer number of seconds in [1, 3600] that divides 3600")
    if cfg.action_period_s % cfg.dt_s:
        raise invalid("action_period_s", cfg.action_period_s, f"a positive multiple of dt_s={cfg.dt_s}")
    horizon_s = cfg.horizon_h * SECONDS_PER_HOUR
    if abs(horizon_s - round(horizon_s)) > 1e-6 or round(horizon_s) % cfg.action_period_s:
        raise invalid(
            "horizon_h",
            cfg.horizon_h,
            f"a positive multiple of action_period_s={cfg.action_period_s} s, in hours",
        )
    start_s = cfg.start_hour * SECONDS_PER_HOUR
    if abs(start_s - round(start_s)) > 1e-6 or round(start_s) % cfg.dt_s:
        raise invalid("start_hour", cfg.start_hour, f"an hour in [0, 24) that is a multiple of dt_s={cfg.dt_s} s")
    for name in ("dwell_time_cv", "energy_demand_cv"):
        if 0.0 < getattr(cfg, name) < MIN_CV:
            raise invalid(name, getattr(cfg, name), f"0 (a fixed value) or a number in [{MIN_CV:g}, {MAX_CV:g}]")
    if not isinstance(cfg.sessions, str) or (cfg.sessions not in SESSION_SOURCES and not Path(cfg.sessions).is_file()):
        allowed = "'independent', 'calibrated' or the path of an existing EV_data1-format .xlsx"
        raise invalid("sessions", cfg.sessions, allowed)
    if cfg.origin_weights is not None:
        sums = cfg.origin_weights_by_hour().sum(axis=1)  # (24,)
        if not (sums > 0).all():
            hourly = isinstance(cfg.origin_weights[0], tuple)
            where = f" (hour {int(np.argmin(sums > 0))}'s weights sum to 0)" if hourly else ""
            raise invalid(
                "origin_weights",
                cfg.origin_weights,
                f"a non-empty list of weights >= 0 with a positive sum, or 24 such lists (one per hour), "
                f"or None{where}",
            )
    if cfg.leader is not None:
        if cfg.leader not in cfg.agent_ids:
            raise invalid("leader", cfg.leader, f"None or a station id in {list(cfg.agent_ids)}")
        if cfg.n_stations < 2:
            raise invalid("leader", cfg.leader, "None with a single station (a leader needs a follower)")
    check_protocol(cfg)
    if cfg.driver_cost == "generalised" and cfg.when_full == "reroute":
        raise ConfigError(
            "when_full='reroute' is invalid with driver_cost='generalised': generalised drivers see every "
            "station's occupancy and never choose a full one, so rerouting would never happen; use 'block' "
            "(they choose among the stations with a free charger) or 'queue'"
        )
    if cfg.objective != "profit" and cfg.reward != "team":
        raise ConfigError(
            f"reward={cfg.reward!r} is invalid with objective={cfg.objective!r}: that objective is one number "
            "for the market, every station's reward, so reward has no effect; leave it at 'team'"
        )
    if cfg.objective == "social_welfare":
        _check_welfare_defined(cfg)
    if cfg.protocol == "mediator" and cfg.mediator_reward == "welfare":
        _check_welfare_defined(cfg, "mediator_reward='welfare'")
    if cfg.demand == "expected":
        # the expected-demand mode has closed-form logit shares and no queue
        if cfg.when_full == "queue" or cfg.origin_weights is not None:
            raise ConfigError(
                f"when_full={cfg.when_full!r}, origin_weights={cfg.origin_weights!r} is invalid with "
                "demand='expected': expected demand has no queue and one origin zone"
            )
        if cfg.driver_cost != "utility" or cfg.noise_scale == 0.0:
            raise ConfigError(
                f"driver_cost={cfg.driver_cost!r}, noise_scale={cfg.noise_scale!r} is invalid with "
                "demand='expected': expected shares are the logit shares of the utility model, so "
                "driver_cost must be 'utility' and noise_scale > 0"
            )
        if cfg.noise != "gumbel":
            raise ConfigError(
                f"noise={cfg.noise!r} is invalid with demand='expected': expected shares are the "
                "multinomial-logit ones, so noise must be 'gumbel'"
            )
        if cfg.congestion_sensitivity != 0.0:
            raise ConfigError(
                f"congestion_sensitivity={cfg.congestion_sensitivity!r} is invalid with demand='expected': "
                "expected demand has no chargers to congest, so it must be 0"
            )


def _check_welfare_defined(cfg: MarketConfig, what: str = "objective='social_welfare'") -> None:
    """``objective="social_welfare"`` (or ``what``, another use of the welfare): consumer surplus
    needs an outside option and a money value of utility."""
    if cfg.driver_cost == "utility":
        if cfg.outside_option_utility is None:
            raise ConfigError(
                f"{what} is invalid with outside_option_utility=None: consumer surplus is "
                "measured against not charging here, which needs an outside option; set outside_option_utility"
            )
        if cfg.price_sensitivity == 0.0:
            raise ConfigError(
                f"{what} is invalid with price_sensitivity=0: utility is turned into "
                "money through the price coefficient, so it must be > 0"
            )
    elif cfg.outside_option_price_per_kwh is None:
        raise ConfigError(
            f"{what} is invalid with outside_option_price_per_kwh=None: consumer surplus is "
            "the generalised cost saved against charging elsewhere; set outside_option_price_per_kwh"
        )
