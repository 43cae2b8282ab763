"""The batched, period-vectorised dynamics against the per-sub-step reference simulator."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evprice.core.rng import spawn_streams
from evprice.market.config import MarketConfig
from evprice.market.draws import STREAMS, sample_elec_price, sample_period_draws
from evprice.market.dynamics import advance_period, initial_state
from evprice.market.params import MarketParams

from .numpy_dynamics import occupancy_fraction
from .reference_sim import ReferenceMarket


def run_both(cfg: MarketConfig, batch: int, seed: int, n_periods: int | None = None, price_seed: int = 1):
    """Run the vectorised dynamics and one reference market per batch member on the same
    draws and random prices; yield (k, outcome, state, reference results)."""
    params = MarketParams.from_config(cfg)
    rngs = spawn_streams(seed, STREAMS)
    elec = sample_elec_price(params, batch, rngs["exogenous"])
    state = initial_state(params, elec)
    refs = [ReferenceMarket(cfg, elec[b]) for b in range(batch)]
    price_rng = np.random.default_rng(price_seed)
    lo, hi = params.price_min, params.price_max
    travel = None  # with origin zones: fixed travel times (Z, N), one zone-station pair unreachable
    if cfg.origin_weights is not None:
        travel = price_rng.uniform(0.05, 0.6, (cfg.n_origins, cfg.n_stations))
        travel[0, 0] = np.inf
    for k in range(n_periods or params.n_periods):
        prices = lo + price_rng.random((batch, cfg.n_stations)) * (hi - lo)
        draws = sample_period_draws(params, k, batch, rngs)
        state, out = advance_period(params, state, prices, draws, travel)
        results = []
        for b in range(batch):
            cnt = int(np.isfinite(draws.arrival_offset_s[b]).sum())
            results.append(
                refs[b].run_period(
                    list(prices[b]),
                    draws.arrival_offset_s[b, :cnt],
                    draws.choice_noise[b, :cnt],
                    draws.dwell_s[b, :cnt],
                    draws.energy_kwh[b, :cnt],
                    draws.origin[b, :cnt],
                    travel,
                )
            )
        yield k, params, out, state, results


def assert_matches_reference(cfg: MarketConfig, batch: int = 3, seed: int = 0, n_periods: int | None = None):
    close = dict(rtol=1e-9, atol=1e-9)
    total_arrivals = 0
    for k, params, out, state, results in run_both(cfg, batch, seed, n_periods):
        for b, r in enumerate(results):
            ctx = f"period {k}, batch member {b}"
            np.testing.assert_allclose(out.energy_kwh[b], r.energy_kwh, err_msg=ctx, **close)
            np.testing.assert_allclose(out.energy_kwh_per_substep[b], r.energy_kwh_per_substep, err_msg=ctx, **close)
            np.testing.assert_allclose(out.revenue[b], r.revenue, err_msg=ctx, **close)
            np.testing.assert_allclose(out.energy_cost[b], r.energy_cost, err_msg=ctx, **close)
            np.testing.assert_allclose(out.fixed_cost[b], r.fixed_cost, err_msg=ctx, **close)
            np.testing.assert_array_equal(out.admitted[b], r.admitted, err_msg=ctx)
            np.testing.assert_array_equal(out.blocked[b], r.blocked, err_msg=ctx)
            assert out.arrivals[b] == r.arrivals, ctx
            assert out.gave_up[b] == r.gave_up, ctx
            np.testing.assert_allclose(out.utilization[b], r.utilization, err_msg=ctx, **close)
            np.testing.assert_allclose(out.booked_profit[b], r.booked_profit, err_msg=ctx, rtol=1e-9, atol=1e-7)
            np.testing.assert_allclose(state.revenue_ema_per_h[b], r.revenue_ema, err_msg=ctx, rtol=1e-9, atol=1e-7)
            np.testing.assert_allclose(state.cost_ema_per_h[b], r.cost_ema, err_msg=ctx, rtol=1e-9, atol=1e-7)
            np.testing.assert_allclose(occupancy_fraction(params, state)[b], r.occupancy_end, err_msg=ctx, **close)
            np.testing.assert_allclose(out.waiting_h[b], r.waiting_h, err_msg=ctx, **close)
            if r.consumer_surplus is None:
                assert np.isnan(out.consumer_surplus[b]), ctx
            else:
                surplus = r.consumer_surplus
                np.testing.assert_allclose(out.consumer_surplus[b], surplus, err_msg=ctx, rtol=1e-9, atol=1e-7)
            total_arrivals += r.arrivals
    return total_arrivals


def test_default_market_matches_reference_over_a_day():
    assert assert_matches_reference(MarketConfig()) > 200


VARIANTS = [
    # overloaded market: lots of blocking
    dict(arrival_rate_per_h=40.0, chargers_per_station=[2, 3]),
    # rerouting with an overloaded market and no outside option
    dict(arrival_rate_per_h=30.0, when_full="reroute", outside_option_utility=None),
    # heterogeneous stations, probit noise, travel times, three stations
    dict(
        n_stations=3,
        chargers_per_station=[1, 4, 2],
        charger_power_kw=[7.0, 50.0, 22.0],
        price_min=[0.5, 0.8, 0.6],
        price_max=[1.5, 2.5, 1.8],
        noise="normal",
        travel_time_min=[5.0, 12.0, 0.0],
        fixed_cost_per_h=[1.0, 6.0, 2.0],
        arrival_rate_per_h=20.0,
        station_utility=[0.5, -0.3, 0.0],
        marginal_cost_per_kwh=[0.05, 0.2, -0.1],
    ),
    # fixed dwell and energy, coarse internal step, episode starting mid-morning
    dict(dwell_time_cv=0.0, energy_demand_cv=0.0, dt_s=300, action_period_s=1800, start_hour=7.5, horizon_h=12.0),
    # lognormal sessions, rerouting with an outside option under load
    dict(
        dwell_time_distribution="lognormal",
        energy_demand_distribution="lognormal",
        when_full="reroute",
        arrival_rate_per_h=25.0,
        chargers_per_station=2,
    ),
    # sessions longer than a period, hourly decisions, a two-day horizon
    dict(dwell_time_mean_h=5.0, action_period_s=3600, horizon_h=48.0, ema_time_constant_h=0.25),
    # one station, fine internal step
    dict(n_stations=1, dt_s=10, action_period_s=600, horizon_h=4.0, start_hour=17.0),
    # utility drivers who see the queue: congestion counts queued EVs, under load
    dict(when_full="queue", waiting_spaces=[3, 1], chargers_per_station=[1, 2], arrival_rate_per_h=12.0),
    # generalised drivers in block mode: full stations are out of the choice set
    dict(
        driver_cost="generalised",
        n_stations=3,
        chargers_per_station=[1, 2, 1],
        arrival_rate_per_h=15.0,
        noise_scale=3.0,
        outside_option_price_per_kwh=1.9,
        origin_weights=(1.0, 2.0),
    ),
    # generalised drivers who queue, with a time budget and probit noise, sessions past the horizon
    dict(
        driver_cost="generalised",
        when_full="queue",
        waiting_spaces=2,
        chargers_per_station=1,
        arrival_rate_per_h=6.0,
        noise="normal",
        noise_scale=2.0,
        outside_option_price_per_kwh=1.7,
        time_budget_h=1.5,
        travel_time_min=[10.0, 25.0],
        horizon_h=6.0,
    ),
]
"""The named variants every implementation of the dynamics is checked on."""


@pytest.mark.parametrize("overrides", VARIANTS)
def test_variants_match_reference(overrides):
    assert assert_matches_reference(MarketConfig(**overrides), batch=2) > 0


configs = st.fixed_dictionaries(
    {
        "n_stations": st.integers(1, 4),
        "chargers_per_station": st.integers(1, 5),
        "dt_s": st.sampled_from([30, 60, 100, 300]),
        "periods_per_hour": st.sampled_from([1, 2, 4]),
        "arrival_rate_per_h": st.floats(0.0, 40.0),
        "dwell_time_mean_h": st.floats(0.05, 4.0),
        "dwell_time_cv": st.one_of(st.just(0.0), st.floats(0.001, 2.0)),
        "dwell_time_distribution": st.sampled_from(["gamma", "lognormal"]),
        "energy_demand_cv": st.one_of(st.just(0.0), st.floats(0.001, 1.5)),
        "congestion_sensitivity": st.floats(0.0, 5.0),
        "outside_option_utility": st.one_of(st.none(), st.floats(-9.0, 0.0)),
        "when_full": st.sampled_from(["block", "reroute", "queue"]),
        "waiting_spaces": st.integers(0, 3),
        "noise": st.sampled_from(["gumbel", "normal"]),
        "start_hour": st.integers(0, 23),
    }
)

generalised_configs = st.fixed_dictionaries(
    {
        "n_stations": st.integers(1, 4),
        "chargers_per_station": st.integers(1, 4),
        "periods_per_hour": st.sampled_from([1, 2, 4]),
        "arrival_rate_per_h": st.floats(0.0, 30.0),
        "dwell_time_mean_h": st.floats(0.05, 3.0),
        "dwell_time_cv": st.one_of(st.just(0.0), st.floats(0.001, 2.0)),
        "value_of_time_per_h": st.floats(0.0, 60.0),
        "travel_time_weight": st.floats(0.0, 4.0),
        "noise_scale": st.floats(0.0, 5.0),
        "outside_option_price_per_kwh": st.one_of(st.none(), st.floats(0.5, 3.0)),
        "time_budget_h": st.one_of(st.none(), st.floats(0.3, 3.0)),
        "when_full": st.sampled_from(["block", "queue"]),
        "waiting_spaces": st.integers(0, 3),
        "n_origins": st.integers(0, 3),
        "start_hour": st.integers(0, 23),
    }
)


def _config(overrides: dict) -> MarketConfig:
    per_hour = overrides.pop("periods_per_hour")
    if overrides["when_full"] != "queue":
        overrides["waiting_spaces"] = 0
    zones = overrides.pop("n_origins", 0)
    if zones:
        overrides["origin_weights"] = (1.0,) * zones
    return MarketConfig(action_period_s=3600 // per_hour, horizon_h=3.0, **overrides)


@settings(max_examples=25, deadline=None)
@given(overrides=configs, seed=st.integers(0, 2**16))
def test_random_configs_match_reference(overrides, seed):
    assert_matches_reference(_config(overrides), batch=2, seed=seed)


@settings(max_examples=20, deadline=None)
@given(overrides=generalised_configs, seed=st.integers(0, 2**16))
def test_random_generalised_configs_match_reference(overrides, seed):
    assert_matches_reference(_config({**overrides, "driver_cost": "generalised"}), batch=2, seed=seed)
