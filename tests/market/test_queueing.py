"""Waiting-time formulas against textbook closed forms, and the world's queue against M/M/c/K."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evprice.market.config import MarketConfig
from evprice.market.kernel import fcfs_start_s
from evprice.market.queueing import (
    erlang_b,
    erlang_c,
    expected_wait_h,
    mgc_mean_wait_h,
    mmck_blocking,
    mmck_distribution,
    mmck_mean_wait_h,
)
from evprice.market.world import MarketWorld


def test_expected_wait_by_hand():
    # 3 chargers, mean dwell 0.9 h. Exponential (scv 1): (n - c + 1) * m / c.
    n = np.array([0, 2, 3, 4, 7])
    assert expected_wait_h(n, 3, 0.9, 1.0) == pytest.approx([0, 0, 0.3, 0.6, 1.5])
    # deterministic dwell (scv 0): the first departure is on average half a slot away
    assert expected_wait_h(n, 3, 0.9, 0.0) == pytest.approx([0, 0, 0.15, 0.45, 1.35])


@given(
    st.integers(0, 500),
    st.integers(1, 40),
    st.floats(0.05, 10.0),
    st.floats(0.0, 20.0),
)
def test_expected_wait_is_finite_and_monotone_at_every_load(n, c, mean_h, scv):
    w0, w1 = expected_wait_h(n, c, mean_h, scv), expected_wait_h(n + 1, c, mean_h, scv)
    assert np.isfinite(w0) and np.isfinite(w1)
    assert 0.0 <= w0 <= w1


def test_erlang_formulas_match_textbook_sums():
    # Erlang B and C by their defining sums, independent of the recursion
    for c, a in [(1, 0.5), (3, 2.1), (10, 7.5), (5, 4.99)]:
        terms = [a**k / math.factorial(k) for k in range(c + 1)]
        b = terms[-1] / sum(terms)
        top = a**c / math.factorial(c) * c / (c - a)
        cc = top / (sum(terms[:-1]) + top)
        assert erlang_b(c, a) == pytest.approx(b, rel=1e-12)
        assert erlang_c(c, a) == pytest.approx(cc, rel=1e-12)
    assert erlang_c(2, 2.0) == 1.0


def test_steady_state_wait_is_infinite_at_or_over_capacity_and_mm1_exact_below():
    # M/M/1: W = rho / (mu - lambda)
    lam, m = 0.8, 1.0
    assert mgc_mean_wait_h(lam, 1, m, 1.0) == pytest.approx(0.8 / (1.0 - 0.8))
    assert mgc_mean_wait_h(2.0, 2, 1.0, 1.0) == math.inf
    assert mgc_mean_wait_h(5.0, 2, 1.0, 1.0) == math.inf


def test_mm1k_distribution_closed_form():
    lam, m, k = 1.5, 1.0, 4  # over capacity: rho = 1.5, still well defined
    rho = lam * m
    p = (1 - rho) * rho ** np.arange(k + 1) / (1 - rho ** (k + 1))
    np.testing.assert_allclose(mmck_distribution(lam, 1, k, m), p, rtol=1e-12)
    assert mmck_blocking(lam, 1, k, m) == pytest.approx(p[-1])
    lq = float(p @ np.maximum(np.arange(k + 1) - 1, 0))
    assert mmck_mean_wait_h(lam, 1, k, m) == pytest.approx(lq / (lam * (1 - p[-1])))


def test_mmck_with_a_large_room_tends_to_mmc_and_stays_finite_over_capacity():
    assert mmck_mean_wait_h(2.4, 3, 400, 1.0) == pytest.approx(mgc_mean_wait_h(2.4, 3, 1.0, 1.0), rel=1e-9)
    waits = [mmck_mean_wait_h(lam, 3, 8, 1.0) for lam in (0.5, 2.0, 3.0, 6.0, 60.0)]
    assert all(np.isfinite(waits)) and waits == sorted(waits)
    assert waits[-1] < 5.0 / 3.0 + 1e-9  # at most (K - c) / (c mu) with the room always full
    assert mmck_distribution(0.0, 2, 4, 1.0) == pytest.approx([1, 0, 0, 0, 0])


def test_fcfs_start_by_hand():
    # 2 chargers, 4 slots; at t = 10 the slots leave at 3 (free), 12, 15, 20 (3 present):
    # the newcomer waits for 2 departures: starts at 15
    work = np.empty(4)
    assert fcfs_start_s(np.array([3.0, 12.0, 15.0, 20.0]), 4, 3, 2, 10.0, work) == 15.0
    # one EV present, 2 chargers: at once; the padding slot (places = 3) is never free
    assert fcfs_start_s(np.array([3.0, 1.0, 12.0, 0.0]), 3, 1, 2, 10.0, work) == 10.0
    # 3 chargers all busy, 4 places, one waiting: it starts at the second departure, 9
    assert fcfs_start_s(np.array([9.0, 7.0, 30.0, 11.0]), 4, 4, 3, 5.0, work) == 9.0


def _queue_world(lam_per_h: float, chargers: int, spaces: int, batch: int) -> tuple[MarketWorld, MarketConfig]:
    cfg = MarketConfig(
        n_stations=1,
        chargers_per_station=chargers,
        when_full="queue",
        waiting_spaces=spaces,
        arrival_rate_per_h=lam_per_h,
        dwell_time_mean_h=1.0,
        dwell_time_cv=1.0,  # gamma shape 1: exponential
        outside_option_utility=None,
        congestion_sensitivity=0.0,
        action_period_s=3600,
        dt_s=900,
        horizon_h=24.0 * 40,
    )
    return MarketWorld(cfg, batch_size=batch), cfg


@pytest.mark.parametrize("lam", [1.6, 3.5])  # under and over the capacity of 2 chargers
def test_world_queue_matches_mmck(lam):
    world, cfg = _queue_world(lam, chargers=2, spaces=3, batch=48)
    world.reset(seed=11)
    arrivals = admitted = blocked = 0
    waiting_h = 0.0
    busy_h = 0.0
    for period in range(cfg.n_periods):
        out = world.step(np.full((48, 1), 1.0))
        if period < 24:  # warm-up from an empty station
            continue
        arrivals += out.arrivals.sum()
        admitted += out.admitted.sum()
        blocked += out.blocked.sum()
        waiting_h += out.waiting_h.sum()
        busy_h += (out.utilization * 2).sum()
    assert admitted + blocked == arrivals
    k = 2 + 3
    p_block = mmck_blocking(lam, 2, k, 1.0)
    w = mmck_mean_wait_h(lam, 2, k, 1.0)
    busy = lam * (1 - p_block) * 1.0  # Little: mean chargers busy = admitted rate x dwell
    assert blocked / arrivals == pytest.approx(p_block, abs=0.01)
    assert waiting_h / admitted == pytest.approx(w, rel=0.05)
    assert busy_h / (48 * (cfg.n_periods - 24)) == pytest.approx(busy, rel=0.03)


def _reference_fcfs_station(events, chargers, places, power_kw, periods, period_s):
    """Per-EV FCFS simulation written independently of the world: a heap of charger free times.

    ``events``: (arrival_s, dwell_s, energy_kwh) in time order. Returns per period: admitted,
    blocked, energy delivered (kWh), total wait (h).
    """
    import heapq

    free = [0.0] * chargers  # when each charger is next free
    departs = []  # departure of every admitted EV
    sessions = []  # (start, charge_end)
    out = [[0, 0, 0.0, 0.0] for _ in range(periods)]
    for t, dwell, energy in events:
        k = int(t // period_s)
        present = sum(d > t for d in departs)
        if present >= places:
            out[k][1] += 1
            continue
        start = max(t, heapq.heappop(free))
        heapq.heappush(free, start + dwell)
        departs.append(start + dwell)
        sessions.append((start, start + min(energy / power_kw * 3600.0, dwell)))
        out[k][0] += 1
        out[k][3] += (start - t) / 3600.0
    for k in range(periods):
        lo, hi = k * period_s, (k + 1) * period_s
        out[k][2] = sum(max(0.0, min(e, hi) - max(s, lo)) for s, e in sessions) * power_kw / 3600.0
    return out


def test_world_queue_matches_an_independent_per_ev_simulation():
    from evprice.core.rng import spawn_streams
    from evprice.market.draws import STREAMS, sample_elec_price, sample_period_draws
    from evprice.market.dynamics import advance_period, initial_state
    from evprice.market.params import MarketParams

    cfg = MarketConfig(
        n_stations=1,
        chargers_per_station=3,
        when_full="queue",
        waiting_spaces=2,
        arrival_rate_per_h=5.0,
        outside_option_utility=None,
        congestion_sensitivity=0.0,
        action_period_s=1800,
        horizon_h=12.0,
    )
    params = MarketParams.from_config(cfg)
    rngs = spawn_streams(21, STREAMS)
    state = initial_state(params, sample_elec_price(params, 1, rngs["exogenous"]))
    events, got = [], []
    for k in range(params.n_periods):
        draws = sample_period_draws(params, k, 1, rngs)
        real = np.isfinite(draws.arrival_offset_s[0])
        t = k * 1800.0 + draws.arrival_offset_s[0, real]
        events += list(zip(t, draws.dwell_s[0, real], draws.energy_kwh[0, real]))
        state, out = advance_period(params, state, np.ones((1, 1)), draws)
        got.append([out.admitted[0, 0], out.blocked[0, 0], out.energy_kwh[0, 0], out.waiting_h[0, 0]])
    ref = _reference_fcfs_station(events, 3, 5, 30.0, params.n_periods, 1800.0)
    got = np.array(got)
    np.testing.assert_array_equal(got[:, :2], np.array(ref)[:, :2])
    np.testing.assert_allclose(got[:, 2:], np.array(ref)[:, 2:], rtol=1e-9, atol=1e-9)
    assert got[:, 1].sum() > 0 and got[:, 3].sum() > 0  # the case exercised both queueing and blocking


# -- utility drivers who see the queue -------------------------------------------------


def _two_single_charger_stations(**kw) -> MarketConfig:
    base = dict(
        n_stations=2,
        chargers_per_station=1,
        when_full="queue",
        waiting_spaces=12,
        price_min=0.5,
        price_max=2.0,
        congestion_sensitivity=2.0,
        price_sensitivity=4.0,
        outside_option_utility=-5.5,
        action_period_s=3600,
        dt_s=900,
    )
    return MarketConfig(**{**base, **kw})


def _shares_with_a_queue(queued: int, b: int = 40_000) -> np.ndarray:
    """Station 2 holds one EV charging and ``queued`` waiting all period, station 1 none; each of
    ``b`` drivers arrives alone at prices (1.5, 1.0). Returns the share admitted at each station."""
    from evprice.market.dynamics import advance_period, initial_state
    from evprice.market.params import MarketParams
    from evprice.market.state import PeriodDraws

    params = MarketParams.from_config(_two_single_charger_stations())
    state = initial_state(params, np.full((b, params.n_hours), 0.6))
    depart = state.slot_depart_s.copy()
    depart[:, 1, : 1 + queued] = 50_000.0
    state = dataclasses.replace(state, slot_depart_s=depart)
    rng = np.random.default_rng(3 + queued)
    draws = PeriodDraws(
        arrival_offset_s=np.full((b, 1), 60.0),
        choice_noise=rng.gumbel(size=(b, 1, 3)),
        dwell_s=np.full((b, 1), 3600.0),
        energy_kwh=np.full((b, 1), 20.0),
        origin=np.zeros((b, 1), dtype=np.intp),
    )
    _, out = advance_period(params, state, np.tile([1.5, 1.0], (b, 1)), draws)
    assert out.blocked.sum() == 0  # 12 waiting spaces: whoever chooses station 2 queues there
    return out.admitted.sum(axis=0) / b


@pytest.mark.parametrize("queued", [0, 1, 3, 6])
def test_the_share_choosing_a_station_is_the_logit_of_its_queue(queued):
    # by hand, logit noise of scale 1: v_1 = -4 x 1.5 = -6 (empty station), v_2 = -4 x 1.0 -
    # 2 x (1 + queued) / 1 charger, v_0 = -5.5; P(k) = e^v_k / (e^v_1 + e^v_2 + e^v_0)
    v = np.array([-6.0, -4.0 - 2.0 * (1 + queued), -5.5])
    expected = np.exp(v) / np.exp(v).sum()
    b = 40_000
    share = _shares_with_a_queue(queued, b)
    tol = 4.5 * np.sqrt(expected[:2] * (1 - expected[:2]) / b) + 1e-4
    np.testing.assert_allclose(share, expected[:2], rtol=0, atol=tol.max())


def test_the_share_falls_as_the_queue_grows():
    # before drivers saw the queue, min(present, chargers) made all four shares equal (0.274)
    shares = [_shares_with_a_queue(q, 20_000)[1] for q in (0, 1, 2, 4)]
    assert all(a > b for a, b in zip(shares, shares[1:])), shares
    assert shares[0] > 0.25 and shares[-1] < 0.002


def _routing_chain(lam_per_h, mean_h, places, v_station, congestion, v_outside, sees_queue=True):
    """Two single-charger FCFS stations with ``places`` places each, fed by logit drivers.

    A continuous-time Markov chain on (n1, n2), the EVs at each station: arrivals at rate
    ``lam`` choose station k with probability e^{u_k} / (e^{u_1} + e^{u_2} + e^{v_0}), u_k =
    v_k - congestion x n_k (n_k capped at 1 if not ``sees_queue``), and are blocked if it is
    full; each station serves at rate 1 / mean when not empty (exponential dwell). Returns
    the long-run share of arrivals choosing each station (PASTA) and blocked at each.
    """
    states = [(a, b) for a in range(places + 1) for b in range(places + 1)]
    index = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    choice = np.zeros((len(states), 2))
    for (a, b), i in index.items():
        seen = (a, b) if sees_queue else (min(a, 1), min(b, 1))
        w = np.exp(np.array([v_station[0] - congestion * seen[0], v_station[1] - congestion * seen[1], v_outside]))
        p = w / w.sum()
        choice[i] = p[:2]
        if a < places:
            q[i, index[(a + 1, b)]] += lam_per_h * p[0]
        if b < places:
            q[i, index[(a, b + 1)]] += lam_per_h * p[1]
        if a > 0:
            q[i, index[(a - 1, b)]] += 1.0 / mean_h
        if b > 0:
            q[i, index[(a, b - 1)]] += 1.0 / mean_h
    q -= np.diag(q.sum(axis=1))
    # stationary distribution: pi Q = 0, sum pi = 1
    a_mat = np.vstack([q.T, np.ones(len(states))])
    pi = np.linalg.lstsq(a_mat, np.r_[np.zeros(len(states)), 1.0], rcond=None)[0]
    full = np.array([[s[0] == places, s[1] == places] for s in states])
    return pi @ choice, pi @ (choice * full)


def test_long_run_choices_match_the_markov_chain_of_queue_aware_drivers():
    cfg = _two_single_charger_stations(
        waiting_spaces=3,
        arrival_rate_per_h=1.5,
        dwell_time_mean_h=1.0,
        dwell_time_cv=1.0,  # exponential
        congestion_sensitivity=1.0,
        horizon_h=24.0 * 30,
    )
    prices = np.array([1.0, 1.3])
    v = -4.0 * prices
    chosen, blocked = _routing_chain(1.5, 1.0, 4, v, 1.0, -5.5)
    naive, _ = _routing_chain(1.5, 1.0, 4, v, 1.0, -5.5, sees_queue=False)
    assert abs(naive[0] - chosen[0]) > 0.05  # the test can tell drivers who see the queue from those who do not
    b = 32
    world = MarketWorld(cfg, batch_size=b)
    world.reset(seed=5)
    arrivals = 0
    at = np.zeros(2)
    blocked_at = np.zeros(2)
    for period in range(cfg.n_periods):
        out = world.step(np.tile(prices, (b, 1)))
        if period < 12:  # warm-up from empty stations
            continue
        arrivals += out.arrivals.sum()
        at += (out.admitted + out.blocked).sum(axis=0)
        blocked_at += out.blocked.sum(axis=0)
    assert arrivals > 20_000
    np.testing.assert_allclose(at / arrivals, chosen, atol=0.012)
    np.testing.assert_allclose(blocked_at / arrivals, blocked, atol=0.006)
