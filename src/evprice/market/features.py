"""The market's features, named as in the seed, and their values as one state vector.

Declared order (which is also the order of the global state vector):

1. ``PublicMarketSignal`` (world-owned, ``public``): ``elec_price`` (the wholesale price
   of the current hour), ``time_sin``, ``time_cos`` (time of day on the unit circle);
2. for each station in order, ``ChargingStationStatus`` (``owner`` + ``upper_level``;
   also ``public`` under full observability): ``occupancy``, ``price``; then
   ``StationProfitWindow`` (``owner`` + ``upper_level``): ``profit_ema``,
   ``revenue_ema``, ``cost_ema``;
3. with a Stackelberg leader (``MarketConfig.leader``), its ``LeaderCommitment``
   (``public``, :func:`leader_commitment_feature`): ``next_price``, the price it has
   committed to for the coming period. The leader's action writes this field; the price in
   force is the one committed a period earlier (:func:`evprice.market.dynamics.leader_prices`).
   It is declared by the leader coupling (:mod:`evprice.envs.couplings.leader`), right after
   the market's features.

All values are in physical units (no normalisation: trainers normalise observations),
and the bounds below are guaranteed by the dynamics.
"""

from __future__ import annotations

import numpy as np

from evprice.core.features import Feature, Field, Visibility
from evprice.market import kernel
from evprice.market.config import MarketConfig
from evprice.market.params import MarketParams
from evprice.market.state import MarketState

PUBLIC_MARKET_SIGNAL = "PublicMarketSignal"
STATION_STATUS = "ChargingStationStatus"
PROFIT_WINDOW = "StationProfitWindow"
LEADER_COMMITMENT = "LeaderCommitment"


def profit_window_bounds(params: MarketParams, station: int) -> dict[str, tuple[float, float]]:
    """Bounds of the three EMAs of ``station`` (0-based), currency/h.

    An EMA that starts at 0 is a convex combination of 0 and past rates, so it lies
    within the hull of 0 and the range of the per-sub-step rate: revenue in
    ``[0, R x price_max]``, cost within the fixed cost plus
    ``R x (wholesale / efficiency + marginal cost)`` over the wholesale range, where ``R``
    is the fastest the station can sell energy (``MarketParams.max_energy_rate_kw``).
    """
    cfg = params.config
    full_power_kw = params.max_energy_rate_kw[station]
    elec_lo, elec_hi = cfg.elec_price_bounds_per_kwh()
    mc = params.marginal_cost_per_kwh[station]
    fixed = params.fixed_cost_per_h[station]
    revenue = (0.0, float(params.max_revenue_per_h[station]))
    cost_lo = fixed + full_power_kw * min(elec_lo / cfg.charging_efficiency + mc, 0.0)
    cost_hi = fixed + full_power_kw * max(elec_hi / cfg.charging_efficiency + mc, 0.0)
    cost = (float(min(0.0, cost_lo)), float(max(0.0, cost_hi)))
    return {
        "profit_ema": (revenue[0] - cost[1], revenue[1] - cost[0]),
        "revenue_ema": revenue,
        "cost_ema": cost,
    }


def declare_features(params: MarketParams) -> tuple[Feature, ...]:
    """Every feature instance of the market (the leader's commitment aside), in declared order."""
    config = params.config
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
    queue = config.when_full == "queue"
    for i, agent_id in enumerate(config.agent_ids):
        ema = profit_window_bounds(params, i)
        waiting = (Field("queue", "EV", 0.0, float(config.waiting_spaces[i]), "EVs waiting for a charger"),)
        features.append(
            Feature(
                STATION_STATUS,
                (
                    Field("occupancy", "1", 0.0, 1.0, "fraction of chargers holding an EV"),
                    Field("price", f"{cur}/kWh", config.price_min[i], config.price_max[i], "posted charging price"),
                )
                + (waiting if queue else ()),
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


def leader_commitment_feature(config: MarketConfig) -> Feature:
    """The Stackelberg leader's ``LeaderCommitment`` (``public``, owned by ``config.leader``):
    ``next_price``, the price it has committed to for the coming period."""
    leader = config.leader_index
    if leader is None:
        raise ValueError("the market has no leader (config.leader is None)")
    return Feature(
        LEADER_COMMITMENT,
        (
            Field(
                "next_price",
                f"{config.currency}/kWh",
                config.price_min[leader],
                config.price_max[leader],
                "price the leader has committed to for the coming pricing period",
            ),
        ),
        frozenset({Visibility.PUBLIC}),
        owner=config.leader,
    )


def state_vector(params: MarketParams, state: MarketState, extra: np.ndarray | None = None) -> np.ndarray:
    """Values of every market feature field in declared order, then the ``extra`` columns
    (B, E) (the couplings' features, e.g. a leader's commitment), shape (B, 3 + 5 N + E)
    (3 + 6 N + E with ``when_full="queue"``: the queue length after the price), float64.

    Computed compiled (:func:`evprice.market.kernel.state_values`)."""
    b = state.price_per_kwh.shape[0]
    if extra is None:
        extra = _NO_COLUMNS[:b] if b <= len(_NO_COLUMNS) else np.empty((b, 0))
    p = params.packed
    return kernel.state_values(
        state.period,
        state.price_per_kwh,
        state.slot_depart_s,
        state.revenue_ema_per_h,
        state.cost_ema_per_h,
        state.elec_price_per_kwh,
        p.capacity,
        p.places,
        p.scalars,
        p.flags,
        extra,
    )


_NO_COLUMNS = np.empty((4096, 0))
