"""Properties of the market over whole episodes: conservation, bounds, queueing theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evprice.market.config import MarketConfig
from evprice.market.features import declare_features, state_vector
from evprice.market.theory import capacity_market, erlang_b
from evprice.market.world import MarketWorld

from .numpy_dynamics import occupancy_fraction


def random_prices(world: MarketWorld, rng: np.random.Generator) -> np.ndarray:
    p = world.params
    return p.price_min + rng.random((world.batch_size, p.n_stations)) * (p.price_max - p.price_min)


def run_episode(cfg: MarketConfig, batch: int, seed: int, prices=None):
    world = MarketWorld(cfg, batch)
    world.reset(seed)
    rng = np.random.default_rng(seed + 1)
    outcomes, states = [], []
    while not world.done:
        outcomes.append(world.step(random_prices(world, rng) if prices is None else prices))
        states.append(world.state)
    return world, outcomes, states


@settings(max_examples=20, deadline=None)
@given(
    n_stations=st.integers(1, 4),
    chargers=st.integers(1, 6),
    rate=st.floats(0.0, 60.0),
    outside=st.one_of(st.none(), st.floats(-8.0, 0.0)),
    when_full=st.sampled_from(["block", "reroute"]),
    seed=st.integers(0, 1000),
)
def test_counters_add_up_and_values_stay_in_bounds(n_stations, chargers, rate, outside, when_full, seed):
    cfg = MarketConfig(
        n_stations=n_stations,
        chargers_per_station=chargers,
        arrival_rate_per_h=rate,
        outside_option_utility=outside,
        when_full=when_full,
        horizon_h=6.0,
    )
    world, outcomes, states = run_episode(cfg, 4, seed)
    params = world.params
    features = declare_features(params)
    low = np.concatenate([[f.low for f in feat.fields] for feat in features])
    high = np.concatenate([[f.high for f in feat.fields] for feat in features])
    max_kwh = params.capacity * params.power_kw * cfg.action_period_s / 3600
    for out, state in zip(outcomes, states):
        # every arrival is admitted, blocked or gives up
        np.testing.assert_array_equal(out.arrivals, out.admitted.sum(1) + out.blocked.sum(1) + out.gave_up)
        if outside is None:
            assert (out.gave_up == 0).all()
        occ = occupancy_fraction(params, state)
        assert ((occ >= 0) & (occ <= 1)).all()
        assert ((out.utilization >= 0) & (out.utilization <= 1 + 1e-12)).all()
        assert (out.energy_kwh >= 0).all() and (out.energy_kwh <= max_kwh + 1e-9).all()
        np.testing.assert_allclose(out.energy_kwh, out.energy_kwh_per_substep.sum(2))
        assert ((out.price_per_kwh >= params.price_min) & (out.price_per_kwh <= params.price_max)).all()
        v = state_vector(params, state)
        assert np.isfinite(v).all()
        assert (v >= low - 1e-9).all() and (v <= high + 1e-9).all()


def test_revenue_is_price_times_energy_when_prices_never_change():
    cfg = MarketConfig(arrival_rate_per_h=20.0)
    prices = np.array([[1.1, 1.7]] * 8)
    _, outcomes, _ = run_episode(cfg, 8, 0, prices=prices)
    revenue = sum(o.revenue for o in outcomes)
    energy = sum(o.energy_kwh for o in outcomes)
    assert energy.min() > 100
    np.testing.assert_allclose(revenue, prices * energy, rtol=1e-12)


def test_energy_delivered_is_what_the_sessions_asked_for():
    # fixed dwell and demand: every session gets min(E, P D) = min(10, 30 x 0.25) = 7.5 kWh
    cfg = MarketConfig(
        dwell_time_mean_h=0.25,
        dwell_time_cv=0.0,
        energy_demand_mean_kwh=10.0,
        energy_demand_cv=0.0,
        arrival_rate_per_h=12.0,
        horizon_h=6.0,
        start_hour=6.0,
    )
    _, outcomes, states = run_episode(cfg, 16, 4)
    energy = sum(o.energy_kwh for o in outcomes)
    admitted = sum(o.admitted for o in outcomes)
    # sessions admitted in the last 15 minutes are cut by the horizon
    last = outcomes[-1]
    assert (energy <= 7.5 * admitted + 1e-9).all()
    assert (energy >= 7.5 * (admitted - last.admitted) - 1e-9).all()
    assert admitted.min() > 5


def test_booked_profit_sums_to_the_accrued_profit_over_an_episode():
    # sessions are short and nobody arrives in the final hour, so every session ends in the episode
    rates = [6.0] * 23 + [0.0]
    cfg = MarketConfig(arrival_rate_per_h=rates, dwell_time_mean_h=0.2, dwell_time_cv=0.5)
    _, outcomes, _ = run_episode(cfg, 8, 2)
    accrued = sum(o.profit for o in outcomes)
    booked = sum(o.booked_profit for o in outcomes)
    np.testing.assert_allclose(booked, accrued, rtol=1e-10, atol=1e-8)


def test_same_seed_same_trajectory_bit_for_bit():
    cfg = MarketConfig(arrival_rate_per_h=15.0, when_full="reroute")
    a = run_episode(cfg, 3, 11)[1]
    b = run_episode(cfg, 3, 11)[1]
    for x, y in zip(a, b):
        for name in ("revenue", "energy_cost", "admitted", "blocked", "utilization", "booked_profit"):
            assert np.array_equal(getattr(x, name), getattr(y, name))
    c = run_episode(cfg, 3, 12)[1]
    assert not all(np.array_equal(x.revenue, z.revenue) for x, z in zip(a, c))


def test_reset_without_seed_continues_the_streams():
    world = MarketWorld(MarketConfig(), 2)
    world.reset(5)
    first = world.state.elec_price_per_kwh.copy()
    world.reset()
    assert not np.array_equal(first, world.state.elec_price_per_kwh)
    world.reset(5)
    assert np.array_equal(first, world.state.elec_price_per_kwh)


def test_step_errors():
    world = MarketWorld(MarketConfig(horizon_h=0.25), 1)
    with pytest.raises(RuntimeError, match="reset"):
        world.step(np.array([[1.0, 1.0]]))
    world.reset(0)
    world.step(np.array([[1.0, 1.0]]))
    with pytest.raises(RuntimeError, match="episode is over"):
        world.step(np.array([[1.0, 1.0]]))
    with pytest.raises(ValueError, match="batch_size"):
        MarketWorld(MarketConfig(), 0)


@pytest.mark.parametrize("dwell_cv, dt", [(1.0, 60), (0.0, 60), (2.0, 60), (1.0, 900)])
def test_blocking_matches_erlang_b(dwell_cv, dt):
    """A loss system M/G/c/c: choice blind to occupancy, no outside option, constant arrivals.

    With equal prices each station receives half of the Poisson arrivals, and arrivals
    and departures happen at exact instants, so the blocking probability is Erlang's
    B(c, lambda_k E[D]) whatever the dwell-time distribution (insensitivity, exercised by
    the three coefficients of variation) and whatever dt.
    """
    mean_h, rate = 1.0, 6.0
    cfg = MarketConfig(
        chargers_per_station=[3, 5],
        arrival_rate_per_h=rate,
        congestion_sensitivity=0.0,
        outside_option_utility=None,
        dwell_time_mean_h=mean_h,
        dwell_time_cv=dwell_cv,
        horizon_h=40.0,
        dt_s=dt,
        action_period_s=3600,
    )
    # the stations start empty; with cv = 2 the gamma tail keeps the load below its steady
    # state for many hours, so skip the first 16 h
    batch, warmup = 2500, 16
    world = MarketWorld(cfg, batch)
    world.reset(2024)
    blocked = np.zeros((batch, 2))
    offered = np.zeros((batch, 2))
    for k in range(world.params.n_periods):
        out = world.step(np.full((batch, 2), 1.3))
        if k >= warmup:
            blocked += out.blocked
            offered += out.blocked + out.admitted
    for k, servers in enumerate((3, 5)):
        ratio = blocked[:, k].sum() / offered[:, k].sum()
        # ratio estimator's standard error over independent batch members
        resid = blocked[:, k] - ratio * offered[:, k]
        se = resid.std(ddof=1) / math.sqrt(batch) / offered[:, k].mean()
        expected = float(erlang_b(servers, rate / 2 * mean_h))
        assert abs(ratio - expected) < 4 * se, (servers, ratio, expected, se)
        assert se < 0.0025


def test_capacity_model_predicts_the_simulated_admissions():
    """The static capacity-aware market (logit choice, Erlang-B loss) against the simulated one:
    constant arrivals, choice blind to occupancy, fixed asymmetric prices."""
    cfg = MarketConfig(
        chargers_per_station=[2, 3],
        arrival_rate_per_h=5.0,
        congestion_sensitivity=0.0,
        horizon_h=30.0,
        action_period_s=3600,
    )
    prices = np.array([1.3, 1.6])
    world = MarketWorld(cfg, 2000)
    world.reset(9)
    admitted = np.zeros((2000, 2))
    warmup = 6
    for k in range(world.params.n_periods):
        out = world.step(np.broadcast_to(prices, (2000, 2)))
        if k >= warmup:
            admitted += out.admitted
    per_period = admitted / (world.params.n_periods - warmup)
    predicted = capacity_market(world.params).admitted(prices)
    se = per_period.std(axis=0, ddof=1) / math.sqrt(len(per_period))
    assert (np.abs(per_period.mean(axis=0) - predicted) < 4 * se).all(), (per_period.mean(axis=0), predicted, se)
    assert (se < 0.01 * predicted).all()
