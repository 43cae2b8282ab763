"""The compiled world against numpy: the same draws bit for bit, the same period to 1e-9.

The oracle is the vectorised numpy implementation the kernel replaced
(``tests/market/numpy_dynamics.py``), and numpy's own ``Generator`` methods for the draws.
Batches run both ways: serially, and over the thread pool (``PARALLEL_MIN_BATCH`` members or
more).
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evprice.core.rng import spawn_streams
from evprice.market import kernel
from evprice.market.config import MarketConfig
from evprice.market.draws import STREAMS, sample_elec_price, sample_period_draws
from evprice.market.dynamics import advance_period, initial_state, run_period
from evprice.market.params import MarketParams

from . import numpy_dynamics as oracle
from .test_dynamics import VARIANTS, _config, configs, generalised_configs

PARALLEL = kernel.PARALLEL_MIN_BATCH + 6
HOURLY_WEIGHTS = tuple((1.0 + h % 3, 0.5 if h < 12 else 3.0, float(h % 2)) for h in range(24))


def test_hourly_origin_weights_draw_each_arrival_from_its_own_hours_zones():
    """Zone 0 only before noon, zone 1 only after: every arrival's origin follows its own hour,
    also inside a two-hour period that spans noon (periods start at 11:00, 13:00, ...)."""
    hourly = tuple((1.0, 0.0) if h < 12 else (0.0, 1.0) for h in range(24))
    cfg = MarketConfig(origin_weights=hourly, arrival_rate_per_h=40.0, action_period_s=7200, start_hour=11)
    params = MarketParams.from_config(cfg)
    rngs = spawn_streams(3, STREAMS)
    seen = {0: 0, 1: 0}
    for k in range(params.n_periods):
        draws = sample_period_draws(params, k, 4, rngs)
        real = np.isfinite(draws.arrival_offset_s)
        hour = (cfg.start_s + k * cfg.action_period_s + draws.arrival_offset_s[real]) // 3600 % 24
        expected = (hour >= 12).astype(int)
        np.testing.assert_array_equal(draws.origin[real], expected, err_msg=f"period {k}")
        for z in (0, 1):
            seen[z] += int((expected == z).sum())
    assert seen[0] > 100 and seen[1] > 100  # both halves of the day drew arrivals


def _same_draws(a, b) -> None:
    for name in ("arrival_offset_s", "choice_noise", "dwell_s", "energy_kwh", "origin"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        dict(noise="normal", dwell_time_distribution="lognormal", energy_demand_distribution="lognormal"),
        dict(dwell_time_cv=0.0, energy_demand_cv=0.0, noise_scale=0.0),
        dict(origin_weights=(1.0, 3.0, 0.5), arrival_rate_per_h=25.0),
        # each zone its own daily profile, periods of two hours: a period's arrivals use two hours' shares
        dict(origin_weights=HOURLY_WEIGHTS, arrival_rate_per_h=25.0, action_period_s=7200),
        dict(arrival_rate_per_h=0.0),
        dict(arrival_rate_per_h=60.0, n_stations=4, chargers_per_station=2),  # Poisson's other algorithm (mean >= 10)
    ],
)
@pytest.mark.parametrize("batch", [1, 5, PARALLEL])
def test_compiled_draws_equal_numpys_and_leave_the_streams_where_numpy_would(overrides, batch):
    cfg = MarketConfig(**overrides)
    if cfg.arrival_rate_per_h == 60.0:
        cfg = MarketConfig(**{**overrides, "dt_s": 900, "action_period_s": 900})  # 15 arrivals a sub-step
    params = MarketParams.from_config(cfg)
    compiled, numpy = spawn_streams(3, STREAMS), spawn_streams(3, STREAMS)
    for period in range(params.n_periods):
        _same_draws(
            sample_period_draws(params, period, batch, compiled),
            oracle.sample_period_draws(params, period, batch, numpy),
        )
    for name in STREAMS:  # the next draw of every stream agrees too
        assert compiled[name].random() == numpy[name].random(), name


def test_stream_addresses_are_a_mapping_of_the_same_generators():
    rngs = spawn_streams(0, STREAMS)
    streams = kernel.StreamAddresses(rngs)
    assert set(streams) == set(STREAMS) and len(streams) == len(STREAMS)
    assert all(streams[name] is rngs[name] for name in STREAMS)
    assert kernel.StreamAddresses.of(streams) is streams
    assert streams.table.shape == (len(kernel.DRAW_STREAMS), 5) and streams.table.dtype == np.uint64
    # a compiled draw advances the generator numpy sees
    params = MarketParams.from_config(MarketConfig(arrival_rate_per_h=30.0))
    twin = spawn_streams(0, STREAMS)
    sample_period_draws(params, 0, 2, streams)
    oracle.sample_period_draws(params, 0, 2, twin)
    assert rngs["choice"].random() == twin["choice"].random()


def test_copied_or_pickled_streams_draw_from_their_own_generators():
    params = MarketParams.from_config(MarketConfig(arrival_rate_per_h=30.0))
    streams = kernel.StreamAddresses(spawn_streams(0, STREAMS))
    for duplicate in (copy.deepcopy, lambda s: pickle.loads(pickle.dumps(s))):
        twin = duplicate(streams)
        assert twin.table[0, 0] != streams.table[0, 0]
        _same_draws(sample_period_draws(params, 0, 3, twin), sample_period_draws(params, 0, 3, streams))


def _compare_with_numpy(cfg: MarketConfig, batch: int, seed: int, n_periods: int | None = None) -> int:
    """Run the kernel and the numpy oracle side by side on the same draws and prices; return arrivals."""
    params = MarketParams.from_config(cfg)
    rngs = spawn_streams(seed, STREAMS)
    elec = sample_elec_price(params, batch, rngs["exogenous"])
    compiled = numpy = initial_state(params, elec)
    price_rng = np.random.default_rng(seed + 1)
    travel = None
    if cfg.origin_weights is not None:  # per member, one zone-station pair unreachable
        travel = price_rng.uniform(0.05, 0.6, (batch, cfg.n_origins, cfg.n_stations))
        travel[:, 0, 0] = np.inf
    close = dict(rtol=1e-9, atol=1e-9)
    arrivals = 0
    for k in range(n_periods or params.n_periods):
        prices = params.price_min + price_rng.random((batch, cfg.n_stations)) * (params.price_max - params.price_min)
        draws = sample_period_draws(params, k, batch, rngs)
        compiled, out = advance_period(params, compiled, prices, draws, travel)
        numpy, ref = oracle.advance_period(params, numpy, prices, draws, travel)
        ctx = f"period {k}"
        for name in ("admitted", "blocked", "arrivals", "gave_up"):
            np.testing.assert_array_equal(getattr(out, name), getattr(ref, name), err_msg=f"{ctx}: {name}")
        for name in (
            "energy_kwh_per_substep",
            "revenue",
            "energy_cost",
            "fixed_cost",
            "utilization",
            "waiting_h",
            "booked_profit",
            "consumer_surplus",
        ):
            np.testing.assert_allclose(getattr(out, name), getattr(ref, name), err_msg=f"{ctx}: {name}", **close)
        for name in ("slot_depart_s", "slot_start_s", "slot_charge_end_s", "slot_price_per_kwh"):
            np.testing.assert_allclose(getattr(compiled, name), getattr(numpy, name), err_msg=f"{ctx}: {name}", **close)
        for name in ("revenue_ema_per_h", "cost_ema_per_h"):
            np.testing.assert_allclose(getattr(compiled, name), getattr(numpy, name), rtol=1e-9, atol=1e-7)
        arrivals += int(out.arrivals.sum())
    return arrivals


@pytest.mark.parametrize("overrides", [{}, *VARIANTS])
def test_the_thread_pool_gives_the_numbers_of_numpy(overrides):
    assert _compare_with_numpy(MarketConfig(**overrides), PARALLEL, seed=7) > 100


@settings(max_examples=15, deadline=None)
@given(overrides=configs, seed=st.integers(0, 2**16), batch=st.sampled_from([1, 3, PARALLEL]))
def test_random_configs_match_numpy(overrides, seed, batch):
    _compare_with_numpy(_config(overrides), batch, seed)


@settings(max_examples=15, deadline=None)
@given(overrides=generalised_configs, seed=st.integers(0, 2**16), batch=st.sampled_from([1, 3, PARALLEL]))
def test_random_generalised_configs_match_numpy(overrides, seed, batch):
    _compare_with_numpy(_config({**overrides, "driver_cost": "generalised"}), batch, seed)


@pytest.mark.parametrize("batch", [1, PARALLEL])
@pytest.mark.parametrize("overrides", [{}, dict(origin_weights=(1.0, 2.0), arrival_rate_per_h=20.0)])
def test_drawing_inside_the_kernel_gives_the_numbers_of_drawing_first(batch, overrides):
    params = MarketParams.from_config(MarketConfig(**overrides))
    fused, split = (kernel.StreamAddresses(spawn_streams(4, STREAMS)) for _ in range(2))
    a = b = initial_state(params, sample_elec_price(params, batch, fused["exogenous"]))
    travel = None if params.origin_cdf.shape[1] == 1 else np.full((2, params.n_stations), 0.25)
    for k in range(params.n_periods):
        prices = np.full((batch, params.n_stations), 1.1 + 0.01 * k)
        a, out_a = run_period(params, a, prices, fused, travel)
        b, out_b = advance_period(params, b, prices, sample_period_draws(params, k, batch, split), travel)
        for name in ("revenue", "energy_kwh_per_substep", "admitted", "blocked", "gave_up", "consumer_surplus"):
            np.testing.assert_array_equal(getattr(out_a, name), getattr(out_b, name), err_msg=f"period {k}: {name}")
        np.testing.assert_array_equal(a.slot_depart_s, b.slot_depart_s)
    assert fused["choice"].random() == split["choice"].random()


def test_a_period_leaves_its_inputs_untouched():
    params = MarketParams.from_config(MarketConfig(arrival_rate_per_h=30.0))
    rngs = spawn_streams(0, STREAMS)
    state = initial_state(params, sample_elec_price(params, 3, rngs["exogenous"]))
    for k in range(4):
        state, _ = advance_period(params, state, np.full((3, 2), 1.2), sample_period_draws(params, k, 3, rngs))
    before = {name: np.copy(getattr(state, name)) for name in ("slot_depart_s", "slot_start_s", "revenue_ema_per_h")}
    prices = np.full((3, 2), 1.4)
    draws = sample_period_draws(params, 4, 3, rngs)
    offsets = draws.arrival_offset_s.copy()
    new_state, out = advance_period(params, state, prices, draws)
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(state, name), value, err_msg=name)
    np.testing.assert_array_equal(draws.arrival_offset_s, offsets)
    assert (prices == 1.4).all() and new_state.price_per_kwh is not prices
    out.price_per_kwh[:] = 0.0  # the outcome's arrays are the caller's to edit
    assert (new_state.price_per_kwh == 1.4).all()
