"""Drivers who minimise price x energy + value of time x (weighted travel + expected wait)."""

from __future__ import annotations

import numpy as np
import pytest

from evprice.market.choice import logit_probabilities
from evprice.market.config import MarketConfig
from evprice.market.dynamics import advance_period, initial_state
from evprice.market.params import MarketParams
from evprice.market.state import PeriodDraws
from evprice.market.world import MarketWorld

PRICE = np.array([[1.2, 1.4]])
TRAVEL_H = np.array([[0.2, 0.05], [0.1, 0.1], [0.5, 0.5]])  # 3 zones x 2 stations


def _config(**kw) -> MarketConfig:
    base = dict(
        n_stations=2,
        chargers_per_station=50,
        driver_cost="generalised",
        value_of_time_per_h=30.0,
        travel_time_weight=4.0,
        outside_option_price_per_kwh=1.6,
        outside_option_time_h=0.5,
        noise_scale=0.0,
        energy_demand_cv=0.0,
        energy_demand_mean_kwh=20.0,
        origin_weights=(1.0, 1.0, 1.0),
        action_period_s=3600,
        dt_s=600,
        price_min=1.0,
        price_max=1.5,
    )
    return MarketConfig(**{**base, **kw})


def _draws(origins, energy_kwh=20.0, dwell_h=1.0, noise=None) -> PeriodDraws:
    m = len(origins)
    return PeriodDraws(
        arrival_offset_s=np.linspace(10.0, 3000.0, m)[None],
        choice_noise=np.zeros((1, m, 3)) if noise is None else noise,
        dwell_s=np.full((1, m), dwell_h * 3600.0),
        energy_kwh=np.full((1, m), energy_kwh),
        origin=np.asarray(origins)[None],
    )


def _run(cfg: MarketConfig, draws: PeriodDraws, travel=TRAVEL_H, state=None):
    params = MarketParams.from_config(cfg)
    state = initial_state(params, np.full((1, params.n_hours), 0.6)) if state is None else state
    return params, advance_period(params, state, PRICE, draws, travel)


def test_deterministic_cheapest_station_by_hand():
    # 20 kWh at 1.2 / 1.4 costs 24 / 28; travel is valued at 4 x 30 = 120 per hour:
    #   zone 0: 24 + 120 x 0.2 = 48,  28 + 120 x 0.05 = 34  -> station 2
    #   zone 1: 24 + 12 = 36,         28 + 12 = 40          -> station 1
    #   zone 2: 24 + 60 = 84,         28 + 60 = 88; outside 1.6 x 20 + 30 x 0.5 = 47 -> gives up
    _, (_, out) = _run(_config(), _draws([0, 1, 2, 0, 1]))
    assert out.admitted.tolist() == [[2, 2]]
    assert out.gave_up.tolist() == [1]
    assert out.blocked.sum() == 0


def test_tiny_noise_recovers_the_deterministic_rule():
    rng = np.random.default_rng(3)
    origins = rng.integers(0, 3, 200)
    noise = rng.gumbel(0.0, 1e-6, (1, 200, 3))
    _, (_, exact) = _run(_config(), _draws(origins))
    _, (_, noisy) = _run(_config(noise_scale=1e-6), _draws(origins, noise=noise))
    assert noisy.admitted.tolist() == exact.admitted.tolist()
    assert noisy.gave_up.tolist() == exact.gave_up.tolist()


def test_sampled_shares_are_the_logit_of_minus_cost_over_scale():
    scale = 6.0
    cfg = _config(
        noise_scale=scale,
        origin_weights=None,
        chargers_per_station=400,
        arrival_rate_per_h=3000.0,
        dwell_time_mean_h=0.02,
    )
    world = MarketWorld(cfg, batch_size=4)
    world.reset(seed=5)
    travel = TRAVEL_H[:1]  # one zone: zone 0's travel times
    counts = np.zeros(3)
    for _ in range(4):
        out = world.step(np.repeat(PRICE, 4, axis=0), travel)
        counts += [out.admitted[:, 0].sum(), out.admitted[:, 1].sum(), out.gave_up.sum()]
    # costs worked out by hand for zone 0 (see test_deterministic_cheapest_station_by_hand)
    p = logit_probabilities(-np.array([48.0, 34.0]), -47.0, scale)
    total = counts.sum()
    se = np.sqrt(p * (1 - p) / total)
    np.testing.assert_array_less(np.abs(counts / total - p), 4 * se)


def test_expected_wait_moves_drivers_away_from_a_busy_station():
    # one charger each; station 2 is taken (EV leaving at t = 1.5 h): a zone-1 driver at 40 vs 36
    # would pick station 1 anyway; a zone-0 driver (48 vs 34) expects to wait at station 2
    # (1 + 1) / 2 x 1 h / 1 = 1 h x 30 = 30 -> 64 > 48: goes to station 1 (no outside option here:
    # at 47 it would beat 48).
    cfg = _config(
        chargers_per_station=1,
        when_full="queue",
        waiting_spaces=2,
        dwell_time_cv=1.0,
        dwell_time_mean_h=1.0,
        outside_option_price_per_kwh=None,
    )
    params = MarketParams.from_config(cfg)
    state = initial_state(params, np.full((1, params.n_hours), 0.6))
    depart = state.slot_depart_s.copy()
    depart[0, 1, 0] = 5400.0
    state = type(state)(**{**state.__dict__, "slot_depart_s": depart, "slot_start_s": np.zeros_like(depart)})
    draws = _draws([0], dwell_h=1.0)
    _, (_, out) = _run(cfg, draws, state=state)
    assert out.admitted.tolist() == [[1, 0]]
    # without the EV there, the same driver takes station 2
    _, (_, out) = _run(cfg, draws)
    assert out.admitted.tolist() == [[0, 1]]


def _station_2_full(cfg: MarketConfig):
    params = MarketParams.from_config(cfg)
    state = initial_state(params, np.full((1, params.n_hours), 0.6))
    depart = state.slot_depart_s.copy()
    depart[0, 1, :] = 5400.0  # every place at station 2 taken until t = 1.5 h
    return type(state)(**{**state.__dict__, "slot_depart_s": depart, "slot_start_s": np.zeros_like(depart)})


@pytest.mark.parametrize("when_full", ["block", "queue"])
def test_no_driver_is_blocked_beside_a_free_station_it_prefers_to_charging_elsewhere(when_full):
    # one charger each (and one waiting space when queueing), every place at station 2 taken; a
    # value of time of 1 CNY/h. At prices (1.4, 1.2) a zone-0 driver pays 28 + 4 x 0.2 = 28.8 at
    # station 1, 24 + 4 x 0.05 = 24.2 at station 2 and 1.6 x 20 + 0.5 = 32.5 elsewhere. Before,
    # it added an expected wait of (1 + 1.21) / 2 x 1.15 h (block; + 1.15 h more for the queued
    # EV) to station 2, still preferred it (25.5 or 26.6) and was blocked beside a free station
    # 1 it preferred to charging elsewhere. Drivers see occupancy now: it charges at station 1.
    spaces = 1 if when_full == "queue" else 0
    cfg = _config(chargers_per_station=1, when_full=when_full, waiting_spaces=spaces, value_of_time_per_h=1.0)
    params = MarketParams.from_config(cfg)
    out = advance_period(params, _station_2_full(cfg), np.array([[1.4, 1.2]]), _draws([0]), TRAVEL_H)[1]
    assert out.blocked.sum() == 0 and out.admitted.tolist() == [[1, 0]]
    # at (1.6, 1.2) station 1 costs 32.8, more than elsewhere: the driver does not charge, and
    # that is blocking, counted at station 2, the full station it preferred to charging elsewhere
    out = advance_period(params, _station_2_full(cfg), np.array([[1.6, 1.2]]), _draws([0]), TRAVEL_H)[1]
    assert out.blocked.tolist() == [[0, 1]] and out.admitted.sum() == 0 and out.gave_up.tolist() == [0]
    # at (1.6, 1.7) it prefers charging elsewhere (32.5) to both stations (32.8, 34.2): it gives up
    out = advance_period(params, _station_2_full(cfg), np.array([[1.6, 1.7]]), _draws([0]), TRAVEL_H)[1]
    assert out.blocked.sum() == 0 and out.gave_up.tolist() == [1]


def test_queued_ev_waits_for_the_charger_and_is_charged_after():
    cfg = _config(
        chargers_per_station=1,
        when_full="queue",
        waiting_spaces=2,
        origin_weights=None,
        dwell_time_mean_h=0.5,
        dwell_time_cv=0.0,
    )
    params = MarketParams.from_config(cfg)
    # two zone-0 drivers (one zone: travel 0.2 / 0.05) both take station 2 (34); the second
    # expects to wait 0.5 x 0.5 h (fixed dwell) = 0.25 h, 34 + 7.5 = 41.5 < 47 (outside) < 48
    draws = PeriodDraws(
        arrival_offset_s=np.array([[0.0, 600.0]]),
        choice_noise=np.zeros((1, 2, 3)),
        dwell_s=np.array([[1800.0, 1800.0]]),
        energy_kwh=np.array([[20.0, 20.0]]),
        origin=np.zeros((1, 2), dtype=int),
    )
    state = initial_state(params, np.full((1, params.n_hours), 0.6))
    state, out = advance_period(params, state, PRICE, draws, TRAVEL_H[:1])
    assert out.admitted.tolist() == [[0, 2]]
    assert out.waiting_h[0, 1] == pytest.approx((1800.0 - 600.0) / 3600.0)
    # 30 kW chargers, 30 min each: 15 kWh per EV, both delivered within the hour
    assert out.energy_kwh[0, 1] == pytest.approx(30.0)
    assert out.utilization[0, 1] == pytest.approx(1.0)


def test_time_budget_excludes_far_stations():
    # budget 0.15 h: zone 0 reaches only station 2, zone 1 both, zone 2 none (-> gives up)
    cfg = _config(time_budget_h=0.15, outside_option_price_per_kwh=None)
    _, (_, out) = _run(cfg, _draws([0, 1, 2]))
    assert out.admitted.tolist() == [[1, 1]]
    assert out.gave_up.tolist() == [1]


def test_world_checks_travel_times():
    world = MarketWorld(_config(), batch_size=1)
    world.reset(seed=0)
    with pytest.raises(ValueError, match="pass travel_time_h"):
        world.step(PRICE)
    with pytest.raises(ValueError, match=r"expected \(3, 2\)"):
        world.step(PRICE, np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"travel_time_h\[\(0, 0\)\] = nan is invalid: expected hours >= 0"):
        world.step(PRICE, np.full((3, 2), np.nan))


def test_origins_follow_the_zone_weights():
    cfg = _config(origin_weights=(1.0, 0.0, 3.0), arrival_rate_per_h=2000.0)
    params = MarketParams.from_config(cfg)
    from evprice.core.rng import spawn_streams
    from evprice.market.draws import STREAMS, sample_period_draws

    draws = sample_period_draws(params, 0, 2, spawn_streams(4, STREAMS))
    real = np.isfinite(draws.arrival_offset_s)
    counts = np.bincount(draws.origin[real], minlength=3)
    n = counts.sum()
    assert counts[1] == 0
    assert counts[2] / n == pytest.approx(0.75, abs=4 * np.sqrt(0.75 * 0.25 / n))


def test_unreachable_stations_are_never_chosen_even_when_time_is_free():
    # zone 0 cannot reach station 2, zone 1 cannot reach station 1; time costs nothing
    cfg = _config(value_of_time_per_h=0.0, origin_weights=(1.0, 1.0), outside_option_price_per_kwh=None)
    travel = np.array([[0.1, np.inf], [np.inf, 0.2]])
    _, (_, out) = _run(cfg, _draws([0, 1, 0, 0, 1]), travel=travel)
    assert out.admitted.tolist() == [[3, 2]]  # price alone would send everyone to station 1 (1.2 < 1.4)
    _, (_, out) = _run(cfg, _draws([0, 1]), travel=np.full((2, 2), np.inf))
    assert out.admitted.sum() == 0 and out.gave_up.tolist() == [2]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"waiting_spaces": 2}, "waiting spaces exist only with when_full='queue'"),
        ({"when_full": "reroute"}, "when_full='reroute' is invalid with driver_cost='generalised'"),
        ({"price_sensitivity": 3.0}, "price_sensitivity=3.0 is invalid with driver_cost='generalised'"),
    ],
)
def test_settings_that_would_be_ignored_are_refused(overrides, message):
    from evprice.core.config import ConfigError

    with pytest.raises(ConfigError, match=message):
        _config(**overrides)


def test_a_world_with_an_unresolved_session_source_refuses_to_run():
    with pytest.raises(ValueError, match="sessions='calibrated' needs a session_sampler"):
        MarketWorld(MarketConfig(sessions="calibrated"))
