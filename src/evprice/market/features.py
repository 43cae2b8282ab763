"""The market's features, named as in the seed, and their values as one state vector.

Declared order (which is also the order of the global state vector):

1. ``PublicMarketSignal`` (world-owned, ``public``): ``elec_price`` (the wholesale price
   of the current hour), ``time_sin``, ``time_cos`` (time of day on the unit circle);
2. for each station in order, ``ChargingStationStatus`` (``owner`` + ``upper_level``;
   also ``public`` under full observability): ``occupancy``, ``price``; then
   ``StationProfitWindow`` (``owner`` + ``upper_level``): ``profit_ema``,
   ``revenue_ema``, ``cost_ema``.

All values are in physical units (no normalisation: trainers normalise observations),
and the bounds below are guaranteed by the dynamics.
"""

from __future__ import annotations

import numpy as np

from evprice.core.features import Feature, Field, Visibility
from evprice.market.config import MarketConfig
from evprice.market.dynamics import occupancy_fraction
from evprice.market.params import MarketParams
from evprice.market.profiles import SECONDS_PER_HOUR
from evprice.market.state import MarketState

PUBLIC_MARKET_SIGNAL = "PublicMarketSignal"
STATION_STATUS = "ChargingStationStatus"
PROFIT_WINDOW = "StationProfitWindow"
SECONDS_PER_DAY = 24 * SECONDS_PER_HOUR


def profit_window_bounds(config: MarketConfig, station: int) -> dict[str, tuple[float, float]]:
    """Bounds of the three EMAs of ``station`` (0-based), currency/h.

    An EMA that starts at 0 is a convex combination of 0 and past rates, so it lies
    within the hull of 0 and the range of the per-sub-step rate: revenue in
    ``[0, chargers x P x price_max]``, cost within the fixed cost plus
    ``chargers x P x wholesale / efficiency`` over the wholesale range.
    """
    full_power_kw = config.chargers_per_station[station] * config.charger_power_kw[station]
    elec_lo, elec_hi = config.elec_price_bounds_per_kwh()
    fixed = config.fixed_cost_per_h[station]
    revenue = (0.0, full_power_kw * config.price_max[station])
    cost_lo = fixed + full_power_kw * min(elec_lo, 0.0) / config.charging_efficiency
    cost_hi = fixed + full_power_kw * max(elec_hi, 0.0) / config.charging_efficiency
    cost = (min(0.0, cost_lo), max(0.0, cost_hi))
    return {
        "profit_ema": (revenue[0] - cost[1], revenue[1] - cost[0]),
        "revenue_ema": revenue,
        "cost_ema": cost,
    }


def declare_features(config: MarketConfig) -> tuple[Feature, ...]:
    """Every feature instance of the market, in declared order."""
    cur = config.currency
    elec_lo, elec_hi = config.elec_price_bounds_per_kwh()
    features = [
        Feature(
            PUBLIC_MARKET_SIGNAL,
            (
                Field("elec_price", f"{cur}/kWh", elec_lo, elec_hi, "wholesale electricity price of the current hour"),
                Field("time_sin", "1", -1.0, 1.0, "sin(2 pi time_of_day / 24 h)"),
                Field("time_cos", "1", -1.0, 1.0, "cos(2 pi time_of_day / 24 h)"),
            ),
            frozenset({Visibility.PUBLIC}),
        )
    ]
    status_vis = {Visibility.OWNER, Visibility.UPPER_LEVEL}
    if config.observability == "full":
        status_vis.add(Visibility.PUBLIC)
    for i, agent_id in enumerate(config.agent_ids):
        ema = profit_window_bounds(config, i)
        features.append(
            Feature(
                STATION_STATUS,
                (
                    Field("occupancy", "1", 0.0, 1.0, "fraction of chargers holding an EV"),
                    Field("price", f"{cur}/kWh", config.price_min[i], config.price_max[i], "posted charging price"),
                ),
                frozenset(status_vis),
                owner=agent_id,
            )
        )
        features.append(
            Feature(
                PROFIT_WINDOW,
                tuple(
                    Field(name, f"{cur}/h", *ema[name], f"EMA of the {name.removesuffix('_ema')} rate")
                    for name in ("profit_ema", "revenue_ema", "cost_ema")
                ),
                frozenset({Visibility.OWNER, Visibility.UPPER_LEVEL}),
                owner=agent_id,
            )
        )
    return tuple(features)


def state_vector(params: MarketParams, state: MarketState) -> np.ndarray:
    """Values of every feature field in declared order, shape (B, 3 + 5 N), float64."""
    b, n = state.price_per_kwh.shape
    t_s = params.start_s + state.period * params.config.action_period_s
    hour = min(t_s // SECONDS_PER_HOUR - params.first_hour, params.n_hours - 1)
    angle = 2.0 * np.pi * (t_s % SECONDS_PER_DAY) / SECONDS_PER_DAY
    public = np.empty((b, 3))
    public[:, 0] = state.elec_price_per_kwh[:, hour]
    public[:, 1] = np.sin(angle)
    public[:, 2] = np.cos(angle)
    per_station = np.stack(
        [
            occupancy_fraction(params, state),
            state.price_per_kwh,
            state.profit_ema_per_h,
            state.revenue_ema_per_h,
            state.cost_ema_per_h,
        ],
        axis=2,
    )  # (B, N, 5)
    return np.concatenate([public, per_station.reshape(b, 5 * n)], axis=1)
