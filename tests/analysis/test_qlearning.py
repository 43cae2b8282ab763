"""Q-learning collusion experiment: every expected number is worked out here, not read from the code."""

import json
import math

import numpy as np
import pytest

from evprice.analysis import qlearning as ql
from evprice.analysis.qlearning import (
    QLearningConfig,
    QTables,
    cycle_outcome,
    exploration_actions,
    greedy_cycle,
    initial_q,
    learn,
    make_game,
    q_step,
    run_sessions,
    session_delta,
    session_streams,
    summarise,
)
from evprice.core.config import ConfigError
from evprice.core.declared import describe_fields

A, C, MU, A0 = 2.0, 1.0, 0.25, 0.0  # LogitBertrand-v0 defaults (Calvano et al.'s baseline)
FAST = QLearningConfig(n_prices=5, beta=1e-3, convergence_periods=1_000, max_periods=200_000)


def logit_profit(own: float, others: list[float]) -> float:
    """(p - c) exp((a - p)/mu) / (sum_j exp((a - p_j)/mu) + exp(a0/mu)), by hand."""
    w = [math.exp((A - p) / MU) for p in [own, *others]]
    return (own - C) * w[0] / (sum(w) + math.exp(A0 / MU))


# -- the game ------------------------------------------------------------------------
def test_price_grid_spans_nash_and_joint_with_a_ten_percent_margin():
    game = make_game(15)
    # Calvano et al. (2020): p_Nash = 1.4729, p_joint = 1.9250 in this market
    assert game.nash_prices == pytest.approx([1.4729, 1.4729], abs=1e-4)
    assert game.joint_prices == pytest.approx([1.9250, 1.9250], abs=1e-4)
    pn, pm = game.nash_prices[0], game.joint_prices[0]
    expected = np.linspace(pn - 0.1 * (pm - pn), pm + 0.1 * (pm - pn), 15)
    assert game.price_grid.shape == (2, 15)
    for row in game.price_grid:
        np.testing.assert_allclose(row, expected, rtol=0, atol=1e-12)
    assert game.nash_profits == pytest.approx([logit_profit(pn, [pn])] * 2, rel=1e-9)
    assert game.joint_profits == pytest.approx([logit_profit(pm, [pm])] * 2, rel=1e-9)


def test_payoff_table_is_the_logit_formula_with_station_0_most_significant():
    game = make_game(4)
    grid = game.price_grid[0]
    assert game.payoffs.shape == (16, 2)
    for a0 in range(4):
        for a1 in range(4):
            row = game.payoffs[a0 * 4 + a1]
            assert row[0] == pytest.approx(logit_profit(grid[a0], [grid[a1]]), rel=1e-12)
            assert row[1] == pytest.approx(logit_profit(grid[a1], [grid[a0]]), rel=1e-12)


def test_three_station_payoffs_and_state_index():
    game = make_game(3, overrides={"n_stations": 3})
    grid = game.price_grid[0]
    assert game.payoffs.shape == (27, 3)
    state = 2 * 9 + 0 * 3 + 1  # prices (high, low, middle)
    p = [grid[2], grid[0], grid[1]]
    assert game.payoffs[state] == pytest.approx(
        [logit_profit(p[0], [p[1], p[2]]), logit_profit(p[1], [p[0], p[2]]), logit_profit(p[2], [p[0], p[1]])]
    )


def test_initial_q_by_hand():
    # two agents, two prices; state = a0 * 2 + a1; payoffs (pi_0, pi_1)
    payoffs = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    q0 = initial_q(payoffs, n_prices=2, discount=0.5)
    # Q_0(a0) = (pi_0(a0, 0) + pi_0(a0, 1)) / (2 (1 - 0.5)); Q_1(a1) = (pi_1(0, a1) + pi_1(1, a1)) / 1
    np.testing.assert_allclose(q0, [[(1 + 3) / 1.0, (5 + 7) / 1.0], [(2 + 6) / 1.0, (4 + 8) / 1.0]])
    game = make_game(2)
    q0 = initial_q(game.payoffs, 2, 0.95)
    g = game.price_grid[0]
    lo_vs = [logit_profit(g[0], [g[0]]), logit_profit(g[0], [g[1]])]
    assert q0[0, 0] == pytest.approx(sum(lo_vs) / (2 * 0.05), rel=1e-12)
    assert q0[1, 0] == pytest.approx(q0[0, 0], rel=1e-12)  # symmetric market


def test_exploration_actions_by_hand():
    u = np.array([[[0.0, 0.99]], [[0.25, 0.6]], [[0.3, 0.01]]])  # (T=3, S=1, n=2)
    eps = np.array([1.0, 0.5, 0.0])  # eps = 0: exp(-beta t) underflowed
    got = exploration_actions(u, eps, n_prices=15)
    # t=0: always explore, floor(15 u); t=1: explore if u < 0.5, floor(15 u / 0.5); t=2: never
    np.testing.assert_array_equal(got[:, 0], [[0, 14], [7, -1], [-1, -1]])
    assert np.isclose(ql.exploration_probability(250_000, 4e-6), math.exp(-1.0))


# -- one period ----------------------------------------------------------------------
def test_one_q_update_by_hand_with_forced_actions():
    payoffs = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    q0 = initial_q(payoffs, 2, 0.5)  # [[4, 12], [8, 12]] in every state: both greedy on price 1
    tables = QTables.start(q0, n_sessions=2, n_states=4)
    state = np.array([3, 0])
    explored = np.array([[1, 0], [-1, -1]])  # session 0: forced (1, 0); session 1: greedy (1, 1)
    nxt, changed = q_step(tables, state, explored, payoffs, learning_rate=0.5, discount=0.5)
    np.testing.assert_array_equal(nxt, [2, 3])
    # session 0, state 3, joint action (1, 0) = state 2 paying (5, 6); max_b Q_i[2, b] = 12 for both
    assert tables.q[0, 3, 0, 1] == 0.5 * 12 + 0.5 * (5 + 0.5 * 12)  # 11.5
    assert tables.q[0, 3, 1, 0] == 0.5 * 8 + 0.5 * (6 + 0.5 * 12)  # 10
    # session 1, state 0, (1, 1) = state 3 paying (7, 8)
    assert tables.q[1, 0, 0, 1] == 0.5 * 12 + 0.5 * (7 + 0.5 * 12)  # 12.5
    assert tables.q[1, 0, 1, 1] == 0.5 * 12 + 0.5 * (8 + 0.5 * 12)  # 13
    # nothing else moved
    untouched = np.ones(tables.q.shape, bool)
    untouched[0, 3, 0, 1] = untouched[0, 3, 1, 0] = untouched[1, 0, 0, 1] = untouched[1, 0, 1, 1] = False
    np.testing.assert_array_equal(tables.q[untouched], np.broadcast_to(q0, tables.q.shape)[untouched])
    np.testing.assert_array_equal(changed, [False, False])
    np.testing.assert_array_equal(tables.greedy, tables.q.argmax(-1))
    np.testing.assert_array_equal(tables.value, tables.q.max(-1))


def test_q_step_reports_a_greedy_change():
    # zero payoffs, no discounting: the played cell becomes 0
    payoffs = np.zeros((4, 2))
    q = np.zeros((1, 4, 2, 2))
    q[0, :, 0] = [1.0, 0.9]  # agent 0 prefers price 0 everywhere
    tables = QTables.of(q)
    nxt, changed = q_step(tables, np.array([2]), np.array([[-1, 1]]), payoffs, learning_rate=0.5, discount=0.0)
    # agent 0 plays greedy 0: Q_0[2, 0] = 0.5 * 1 + 0.5 * 0 = 0.5 < 0.9 -> greedy becomes 1
    assert nxt[0] == 0 * 2 + 1 and changed[0]
    assert tables.q[0, 2, 0, 0] == 0.5 and tables.greedy[0, 2, 0] == 1 and tables.value[0, 2, 0] == 0.9
    assert tables.greedy[0, 1, 0] == 0  # other states keep theirs


# -- outcome -------------------------------------------------------------------------
def test_greedy_cycle_and_delta_on_a_hand_built_two_cycle():
    game = make_game(2)
    # state (a0, a1) -> next prices: (0,0) -> (1,1) -> (0,0) ...; (0,1) -> (0,0); (1,0) -> (1,0)
    strategies = np.array([[1, 1], [0, 0], [1, 0], [0, 0]])
    np.testing.assert_array_equal(greedy_cycle(strategies, 1, 2), [0, 3])  # via state 0
    np.testing.assert_array_equal(greedy_cycle(strategies, 3, 2), [3, 0])
    np.testing.assert_array_equal(greedy_cycle(strategies, 2, 2), [2])  # a fixed point
    lo, hi = game.price_grid[0]
    length, profit, prices = cycle_outcome(game, strategies, 1)
    expected = (logit_profit(lo, [lo]) + logit_profit(hi, [hi])) / 2
    assert length == 2
    assert profit == pytest.approx([expected, expected], rel=1e-12)
    assert prices == pytest.approx([(lo + hi) / 2] * 2, rel=1e-12)
    nash, joint = logit_profit(1.4729267, [1.4729267]), logit_profit(1.9249809, [1.9249809])
    assert session_delta(game, profit) == pytest.approx((expected - nash) / (joint - nash), abs=1e-6)
    # asymmetric fixed point (high, low): Delta is the mean of the two agents' gains
    length, profit, _ = cycle_outcome(game, strategies, 2)
    gains = [(logit_profit(hi, [lo]) - nash) / (joint - nash), (logit_profit(lo, [hi]) - nash) / (joint - nash)]
    assert length == 1 and session_delta(game, profit) == pytest.approx(np.mean(gains), abs=1e-6)


# -- sessions ------------------------------------------------------------------------
def reference_sessions(game, cfg, seed, n_sessions):
    """The algorithm written plainly: one session at a time, Python lists, one draw per period."""
    n, m = game.n_stations, game.n_prices
    out = []
    for child in np.random.SeedSequence(seed).spawn(n_sessions):
        rng = np.random.default_rng(child)
        state = int(rng.integers(m**n))
        q0 = [
            [sum(game.payoffs[s][i] for s in range(m**n) if (s // m ** (n - 1 - i)) % m == a) for a in range(m)]
            for i in range(n)
        ]
        q = [[[v / ((1 - cfg.discount) * m ** (n - 1)) for v in q0[i]] for i in range(n)] for _ in range(m**n)]
        best = lambda row: int(np.argmax(row))  # noqa: E731  the first maximum
        quiet, t = 0, 0
        while t < cfg.max_periods and quiet < cfg.convergence_periods:
            eps = math.exp(-cfg.beta * t)
            u = rng.random(n)
            acts = [min(int(u[i] * (m / eps)), m - 1) if u[i] < eps else best(q[state][i]) for i in range(n)]
            nxt = sum(a * m ** (n - 1 - i) for i, a in enumerate(acts))
            before = [best(q[state][i]) for i in range(n)]
            for i in range(n):
                target = game.payoffs[nxt][i] + cfg.discount * max(q[nxt][i])
                q[state][i][acts[i]] = (1 - cfg.learning_rate) * q[state][i][acts[i]] + cfg.learning_rate * target
            quiet = quiet + 1 if before == [best(q[state][i]) for i in range(n)] else 0
            state, t = nxt, t + 1
        strategies = [[best(q[s][i]) for i in range(n)] for s in range(m**n)]
        out.append((quiet >= cfg.convergence_periods, t, state, strategies))
    return out


def test_vectorised_sessions_match_a_plain_reference(monkeypatch):
    monkeypatch.setattr(ql, "BLOCK_PERIODS", 97)  # cross many block boundaries and removals mid-block
    game = make_game(5)
    cfg = QLearningConfig(n_prices=5, beta=2e-3, convergence_periods=300, max_periods=2_350)
    converged, periods, final_state, strategies = learn(game, cfg, session_streams(11, 8))
    ref = reference_sessions(game, cfg, 11, 8)
    for k, (ok, t, state, strat) in enumerate(ref):
        assert (converged[k], periods[k], final_state[k]) == (ok, t, state)
        np.testing.assert_array_equal(strategies[k], strat)
    # the cases that matter happened: greedy changes, convergence mid-block at different periods, the cap
    assert set(periods.tolist()) == {300, 2323, 2350} and converged.sum() == 7


def test_a_session_whose_strategy_never_changes_converges_exactly_after_convergence_periods():
    # price 1 earns 1 and price 0 earns 0 whatever the other does: Q_i(1) = 1 / (1 - delta) is a
    # fixed point of the update and Q_i(0) climbs towards delta / (1 - delta) < Q_i(1): no greedy change
    game = make_game(2)
    actions = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    game = ql.PricingGame(**{**game.__dict__, "payoffs": actions.astype(float)})
    cfg = QLearningConfig(n_prices=2, beta=0.0, convergence_periods=500, max_periods=10_000)
    converged, periods, _, strategies = learn(game, cfg, session_streams(0, 3))
    assert converged.all() and (periods == 500).all()
    assert (strategies == 1).all()
    capped = learn(game, cfg.replace(max_periods=499), session_streams(0, 3))
    assert not capped[0].any() and (capped[1] == 499).all()


def test_same_seed_same_result_and_sessions_independent_of_their_company(monkeypatch):
    a = run_sessions(4, FAST, seed=3)
    b = run_sessions(4, FAST, seed=3)
    one = run_sessions(1, FAST, seed=3)
    monkeypatch.setattr(ql, "BLOCK_PERIODS", 1_234)
    six = run_sessions(6, FAST, seed=3)
    for field in ("converged", "periods", "final_state", "strategies", "delta", "cycle_length", "cycle_profit"):
        x = getattr(a, field)
        np.testing.assert_array_equal(x, getattr(b, field))
        np.testing.assert_array_equal(x[:1], getattr(one, field))
        np.testing.assert_array_equal(x, getattr(six, field)[:4])
    assert not np.array_equal(a.strategies, run_sessions(4, FAST, seed=4).strategies)


def test_small_end_to_end_run_converges_above_nash():
    result = run_sessions(8, FAST, seed=0)
    assert result.converged.all()
    assert (result.periods >= FAST.convergence_periods).all() and (result.periods < FAST.max_periods).all()
    assert result.strategies.shape == (8, 25, 2) and result.cycle_profit.shape == (8, 2)
    grid = result.game.price_grid
    assert ((result.cycle_prices >= grid[:, :1].T) & (result.cycle_prices <= grid[:, -1:].T)).all()
    assert 0.2 < result.delta.mean() < 1.0
    summary = json.loads(json.dumps(summarise(result)))
    assert summary["delta"]["mean"] == pytest.approx(result.delta.mean())
    lo, hi = summary["delta"]["ci95"]
    assert lo < summary["delta"]["mean"] < hi
    assert summary["converged_share"] == 1.0 and summary["sessions"] == 8
    assert summary["periods"]["mean_converged"] == pytest.approx(result.periods.mean())
    assert summary["config"]["n_prices"] == 5 and summary["caveats"] == []


def test_three_stations_run():
    cfg = QLearningConfig(n_prices=3, beta=2e-3, convergence_periods=500, max_periods=100_000)
    result = run_sessions(3, cfg, seed=1, overrides={"n_stations": 3})
    assert result.strategies.shape == (3, 27, 3) and result.cycle_prices.shape == (3, 3)
    assert result.converged.all() and np.isfinite(result.delta).all()


# -- configuration -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_prices", 1),
        ("n_prices", 2.5),
        ("discount", 1.0),
        ("discount", -0.1),
        ("learning_rate", 0.0),
        ("learning_rate", 1.5),
        ("beta", -1e-6),
        ("beta", float("nan")),
        ("convergence_periods", 0),
        ("max_periods", 0),
        ("memory", 2),
    ],
)
def test_bad_config_values_name_the_field(field, value):
    with pytest.raises(ConfigError, match=f"^{field}="):
        QLearningConfig(**{field: value})


def test_the_settings_are_declared_and_memory_is_one():
    rows = {r["name"]: r for r in describe_fields(QLearningConfig)}
    assert [n for n, r in rows.items() if not r["allowed"]] == ["memory"]  # only 1 is implemented: a rule
    assert rows["discount"]["allowed"] == "a finite number in [0, 1)" and rows["discount"]["reason"]
    cfg = QLearningConfig(n_prices=5.0, memory=1.0)
    assert type(cfg.n_prices) is int and type(cfg.memory) is int
    with pytest.raises(ConfigError, match="^memory=True is invalid: expected 1"):
        QLearningConfig(memory=True)


def test_bad_run_arguments_name_the_problem():
    with pytest.raises(ConfigError, match="unknown key 'beat'"):
        QLearningConfig.from_overrides({"beat": 1e-5})
    with pytest.raises(ConfigError, match="^n_sessions=0"):
        run_sessions(0, FAST)
    with pytest.raises(ConfigError, match="^n_prices=1000 with 3 stations"):
        run_sessions(1, QLearningConfig(n_prices=1000), overrides={"n_stations": 3})
    assert QLearningConfig.from_overrides(QLearningConfig().to_dict()) == QLearningConfig()
