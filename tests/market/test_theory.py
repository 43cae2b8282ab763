"""The logit price-competition solvers against numbers obtained independently of them:
published values, first-order conditions solved by a generic root finder, brute-force
grids, and Erlang-B tables."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from evprice.market.config import MarketConfig
from evprice.market.params import MarketParams
from evprice.market.theory import (
    CapacityMarket,
    LogitMarket,
    bertrand_nash,
    best_response,
    best_responses,
    capacity_joint_optimum,
    capacity_nash,
    erlang_b,
    joint_optimum,
    lambertw_exp,
    logit_market,
    profit_gain,
    shares,
    stackelberg,
)

BASELINE = LogitMarket(a=[2.0, 2.0], c=[1.0, 1.0], mu=0.25, a0=0.0)


def direct_shares(m: LogitMarket, p: np.ndarray) -> np.ndarray:
    """Shares written out from the formula, independently of ``shares``."""
    w = np.exp((m.a - p) / m.mu)
    return w / (w.sum() + np.exp(m.a0 / m.mu))


def direct_profits(m: LogitMarket, p: np.ndarray) -> np.ndarray:
    return (p - m.c) * direct_shares(m, p)


def nash_by_foc(m: LogitMarket) -> np.ndarray:
    """Nash prices from the first-order conditions 1 - (p_i - c_i)(1 - q_i) / mu = 0 (fsolve)."""
    foc = lambda p: 1.0 - (p - m.c) * (1.0 - direct_shares(m, p)) / m.mu  # noqa: E731
    return solve(foc, m.c + m.mu)


def solve(equations, x0) -> np.ndarray:
    """A root of ``equations`` by a generic solver, checked by its residual."""
    res = optimize.root(equations, x0, method="hybr", options={"xtol": 1e-13})
    assert np.max(np.abs(equations(res.x))) < 1e-10, res.message
    return res.x


def test_baseline_matches_the_published_values():
    # Calvano, Calzolari, Denicolo and Pastorello (2020, AER), section on the baseline:
    # Nash price 1.473, monopoly price 1.925, profits 0.223 and 0.337 per firm
    nash, joint = bertrand_nash(BASELINE), joint_optimum(BASELINE)
    np.testing.assert_allclose(nash.prices, 1.473, atol=5e-4)
    np.testing.assert_allclose(joint.prices, 1.925, atol=5e-4)
    np.testing.assert_allclose(nash.profits, 0.223, atol=5e-4)
    np.testing.assert_allclose(joint.profits, 0.3375, atol=5e-4)


@pytest.mark.parametrize(
    "market",
    [
        BASELINE,
        LogitMarket(a=[2.0, 2.0], c=[1.0, 1.2], mu=0.25, a0=0.0),
        LogitMarket(a=[2.0, 2.5], c=[1.0, 1.0], mu=0.25, a0=0.0),
        LogitMarket(a=[2.0, 2.2, 1.7], c=[1.0, 0.9, 1.1], mu=0.4, a0=0.5),
        LogitMarket(a=[1.0, 1.0], c=[0.5, 0.5], mu=0.01, a0=-3.0),  # small mu: overflow-prone
    ],
)
def test_nash_solves_the_first_order_conditions(market):
    got = bertrand_nash(market)
    np.testing.assert_allclose(got.prices, nash_by_foc(market), rtol=1e-9)
    np.testing.assert_allclose(got.shares, direct_shares(market, got.prices), rtol=1e-9)
    np.testing.assert_allclose(got.profits, direct_profits(market, got.prices), rtol=1e-9)
    assert got.shares.sum() + got.outside_share == pytest.approx(1.0)


@pytest.mark.parametrize(
    "market",
    [
        BASELINE,
        LogitMarket(a=[2.0, 2.0], c=[1.0, 1.2], mu=0.25, a0=0.0),
        LogitMarket(a=[2.0, 2.2, 1.7], c=[1.0, 0.9, 1.1], mu=0.4, a0=0.5),
        LogitMarket(a=[2.0, 2.0], c=[1.0, 1.0], mu=0.25, a0=0.0, quantity=[1.0, 3.0]),  # numerical branch
    ],
)
def test_joint_optimum_maximises_total_profit(market):
    got = joint_optimum(market)
    brute = optimize.minimize(
        lambda p: -(market.quantity * direct_profits(market, p)).sum(),
        got.prices + 0.1,
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000},
    )
    np.testing.assert_allclose(got.prices, brute.x, atol=1e-6)
    assert got.profits.sum() >= -brute.fun - 1e-12


def test_asymmetric_costs_by_hand():
    # the lower-cost station prices lower, sells more and earns more, at Nash and jointly;
    # jointly every markup is the same (equal quantities)
    m = LogitMarket(a=[2.0, 2.0], c=[1.0, 1.2], mu=0.25, a0=0.0)
    nash, joint = bertrand_nash(m), joint_optimum(m)
    assert nash.prices[0] < nash.prices[1] and nash.profits[0] > nash.profits[1]
    np.testing.assert_allclose(joint.prices - m.c, joint.prices[0] - 1.0)
    assert (joint.prices > nash.prices).all() and joint.profits.sum() > nash.profits.sum()


def test_lambert_w_best_response_against_a_grid():
    rng = np.random.default_rng(0)
    for _ in range(8):
        m = LogitMarket(
            a=rng.uniform(1, 3, 3), c=rng.uniform(0.5, 1.5, 3), mu=rng.uniform(0.05, 1.0), a0=rng.uniform(-1, 1)
        )
        p = m.c + rng.uniform(0, 1, 3)
        for i in range(3):
            grid = np.linspace(m.c[i], m.c[i] + 10 * m.mu + 2, 100_001)
            trial = np.repeat(p[None], len(grid), axis=0)
            trial[:, i] = grid
            own = (grid - m.c[i]) * shares(m, trial)[:, i]
            assert best_response(m, p, i) == pytest.approx(grid[np.argmax(own)], abs=2 * (grid[1] - grid[0]))


def test_lambertw_exp_for_large_and_small_arguments():
    for z in (-30.0, -1.0, 0.0, 1.0, 50.0, 700.0, 1e4):
        y = float(lambertw_exp(z))
        assert y + np.log(y) == pytest.approx(z, rel=1e-12, abs=1e-12)  # the defining equation
    assert float(lambertw_exp(1.0)) == pytest.approx(1.0)  # W(e) = 1


def test_stackelberg_against_a_brute_force_search():
    m = LogitMarket(a=[2.0, 2.0, 2.0], c=[1.0, 1.0, 1.0], mu=0.25, a0=0.0)
    got = stackelberg(m, leader=0)

    def leader_profit(p_l: float) -> float:
        foc = lambda q: np.array(  # noqa: E731
            [1.0 - (q[k] - 1.0) * (1.0 - direct_shares(m, np.array([p_l, *q]))[k + 1]) / m.mu for k in range(2)]
        )
        followers = solve(foc, [1.5, 1.5])
        return direct_profits(m, np.array([p_l, *followers]))[0]

    grid = np.linspace(1.4, 2.0, 601)
    values = [leader_profit(x) for x in grid]
    best = grid[int(np.argmax(values))]
    assert got.prices[0] == pytest.approx(best, abs=1e-3)
    assert got.profits[0] == pytest.approx(max(values), rel=1e-6)
    # followers best-respond to each other and to the leader
    for i in (1, 2):
        assert got.prices[i] == pytest.approx(best_response(m, got.prices, i), abs=1e-9)
    # leading pays at least the Nash profit, and the followers gain more (second-mover advantage)
    nash = bertrand_nash(m)
    assert got.profits[0] >= nash.profits[0] and got.profits[1] > got.profits[0]


def test_erlang_b_against_tables():
    # Erlang-B tables: B(5, 3 Erlang) = 0.1101, B(10, 5) = 0.01838; B(1, A) = A / (1 + A)
    assert float(erlang_b(5, 3.0)) == pytest.approx(0.1101, abs=5e-5)
    assert float(erlang_b(10, 5.0)) == pytest.approx(0.01838, abs=5e-6)
    np.testing.assert_allclose(erlang_b([1, 1, 2], [1.0, 4.0, 1.0]), [0.5, 0.8, 0.2])
    assert float(erlang_b(0, 2.0)) == 1.0 and float(erlang_b(3, 0.0)) == 0.0


def capacity_case() -> CapacityMarket:
    return CapacityMarket(
        BASELINE,
        arrivals_per_period=10.0,
        dwell_periods=0.5,
        chargers=np.array([2, 3]),
        kwh_per_ev=np.array([1.0, 1.0]),
    )


def test_capacity_nash_against_a_brute_force_search():
    cm = capacity_case()
    nash = capacity_nash(cm)
    grid = np.linspace(1.0, 3.5, 25_001)
    for i in range(2):
        trial = np.repeat(nash.prices[None], len(grid), axis=0)
        trial[:, i] = grid
        own = cm.profits(trial)[:, i]
        # no unilateral deviation on the grid beats the equilibrium price
        assert own.max() <= nash.profits[i] + 1e-9
        assert nash.prices[i] == pytest.approx(grid[np.argmax(own)], abs=2e-4)
    # blocking makes stations scarce: prices above the uncapacitated Nash prices
    assert (nash.prices > bertrand_nash(BASELINE).prices).all()


def test_capacity_joint_against_a_brute_force_search():
    cm = capacity_case()
    joint = capacity_joint_optimum(cm)
    axis = np.linspace(1.5, 3.0, 601)
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    total = cm.profits(grid).sum(axis=1)
    assert joint.profits.sum() >= total.max() - 1e-9
    np.testing.assert_allclose(joint.prices, grid[np.argmax(total)], atol=3e-3)


def test_capacity_profits_by_hand():
    cm = capacity_case()
    p = np.array([1.5, 1.6])
    q = direct_shares(BASELINE, p)
    offered = 10.0 * q
    blocking = [erlang_b(2, offered[0] * 0.5), erlang_b(3, offered[1] * 0.5)]
    expected = (p - 1.0) * offered * (1 - np.array(blocking, dtype=float).ravel())
    np.testing.assert_allclose(cm.profits(p), expected)


def test_profit_gain():
    assert profit_gain(0.2229, 0.2229, 0.3375) == pytest.approx(0.0)
    assert profit_gain(0.3375, 0.2229, 0.3375) == pytest.approx(1.0)
    assert profit_gain(0.2802, 0.2229, 0.3375) == pytest.approx(0.5, abs=1e-3)


def test_bad_markets():
    with pytest.raises(ValueError, match="mu=0"):
        LogitMarket(a=[1.0], c=[0.5], mu=0.0)
    with pytest.raises(ValueError, match="single station without an outside option"):
        LogitMarket(a=[1.0], c=[0.5], mu=0.2, a0=None)
    with pytest.raises(ValueError, match="joint optimum needs a0"):
        joint_optimum(LogitMarket(a=[1.0, 1.0], c=[0.5, 0.5], mu=0.2, a0=None))
    with pytest.raises(ValueError, match="leader=5"):
        stackelberg(BASELINE, leader=5)


def test_which_static_markets_are_exact():
    from evprice.envs import make_env
    from evprice.market.theory import static_market_is_exact

    exact = lambda env_id, **o: static_market_is_exact(make_env(env_id, 1, **o).params)  # noqa: E731
    assert exact("LogitBertrand-v0")
    assert exact("LogitBertrand-v0", demand="sampled", arrivals_per_period=20)
    # one charger each: 8% of drivers blocked, the static market overstates demand
    assert not exact("LogitBertrand-v0", demand="sampled", arrivals_per_period=20, chargers_per_station=1)
    assert exact("PublicCharging-v0", demand="expected", congestion_sensitivity=0.0)
    assert not exact("PublicCharging-v0")  # congestion term
    # no congestion and plenty of chargers, but sessions of half an hour against a day
    assert not exact("PublicCharging-v0", congestion_sensitivity=0.0, chargers_per_station=50)


def test_static_market_of_the_default_public_charging_market():
    cfg = MarketConfig()
    market = logit_market(MarketParams.from_config(cfg))
    # utilities divided by the price sensitivity 4: a = 0, mu = 1/4, a0 = -5.5/4
    np.testing.assert_allclose(market.a, 0.0)
    assert market.mu == pytest.approx(0.25) and market.a0 == pytest.approx(-1.375)
    # marginal cost: the hourly wholesale profile weighted by the hourly arrival rates, / 0.95
    rates = cfg.arrival_rates_per_h()
    hours = np.arange(24) + 0.5
    elec = 0.65 + 0.25 * np.cos(2 * np.pi * (hours - 18.0) / 24)
    np.testing.assert_allclose(market.c, (rates @ elec) / rates.sum() / 0.95, rtol=1e-12)
    # quantity: mean arrivals per 15-min period (90 a day / 96) times the mean delivered energy
    assert market.quantity[0] == pytest.approx(90.0 / 96 * 14.0897, rel=1e-4)


def test_extreme_markets_give_finite_prices():
    """Very strong or very weak competitors push exp() to its limits; the solvers stay finite."""
    cases = [
        (LogitMarket(a=[2.0, 10.0], c=[1.0, 1.0], mu=0.01, a0=0.0), None),
        (LogitMarket(a=[2.0, 2.0], c=[1e5, 1.0], mu=0.25, a0=0.0), None),
        (LogitMarket(a=[2.0, 2.0], c=[1.0, 1.0], mu=0.25, a0=1000.0), [1.25, 1.25]),  # the outside option wins
    ]
    for market, expected in cases:
        nash = bertrand_nash(market)
        assert np.isfinite(nash.prices).all() and np.isfinite(nash.profits).all()
        # a station nobody buys from prices at c + mu: the limit of the best response as q -> 0
        if expected is not None:
            np.testing.assert_allclose(nash.prices, expected)
    np.testing.assert_allclose(bertrand_nash(cases[1][0]).prices[0], 1e5 + 0.25)
    for z in (-50.0, -800.0, -1e6):
        y = float(lambertw_exp(z))
        assert np.isfinite(y) and y == pytest.approx(np.exp(z), rel=1e-12, abs=1e-300)


def test_stackelberg_without_an_outside_option_against_brute_force():
    """The leader's optimum lies far above c + 20 mu here; the search must widen to find it."""
    m = LogitMarket(a=[10.0, 2.0], c=[1.0, 1.0], mu=0.25, a0=None)
    got = stackelberg(m, leader=0)
    grid = np.linspace(1.0, 15.0, 14_001)
    trial = np.stack([grid, np.zeros_like(grid)], axis=1)
    trial[:, 1] = best_responses(m, trial)[:, 1]  # the one follower's response to each leader price
    leader = (grid - 1.0) * direct_shares_no_outside(m, trial)[:, 0]
    assert got.prices[0] == pytest.approx(grid[np.argmax(leader)], abs=2e-3)
    assert got.profits[0] == pytest.approx(leader.max(), rel=1e-6)


def direct_shares_no_outside(m: LogitMarket, p: np.ndarray) -> np.ndarray:
    w = np.exp((m.a - p) / m.mu)
    return w / w.sum(axis=-1, keepdims=True)


def test_vectorised_best_responses_are_optimal_in_every_row():
    m = LogitMarket(a=[2.0, 2.3, 1.7, 2.1], c=[1.0, 1.1, 0.9, 1.0], mu=0.3, a0=0.2)
    p = np.random.default_rng(3).uniform(1.0, 2.5, (5, 4))
    got = best_responses(m, p)  # (5, 4): each row a price vector, each station's response
    grid = np.linspace(0.5, 4.0, 100_001)
    for b in range(5):
        for i in range(4):
            trial = np.repeat(p[b][None], len(grid), axis=0)
            trial[:, i] = grid
            own = (grid - m.c[i]) * shares(m, trial)[:, i]
            assert got[b, i] == pytest.approx(grid[np.argmax(own)], abs=7e-5)
            assert got[b, i] == pytest.approx(best_response(m, p[b], i), rel=1e-14)
