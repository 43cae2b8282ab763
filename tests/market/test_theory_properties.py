"""Properties of the logit solvers on random markets (Hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from evprice.market.theory import LogitMarket, bertrand_nash, best_responses, erlang_b, joint_optimum, profits, shares

markets = st.integers(1, 4).flatmap(
    lambda n: st.builds(
        LogitMarket,
        a=st.lists(st.floats(0.0, 4.0), min_size=n, max_size=n),
        c=st.lists(st.floats(0.0, 2.0), min_size=n, max_size=n),
        mu=st.floats(0.02, 2.0),
        a0=st.floats(-3.0, 3.0),
    )
)


@settings(max_examples=60, deadline=None)
@given(market=markets)
def test_nash_is_a_fixed_point_and_joint_beats_it(market):
    nash = bertrand_nash(market)
    np.testing.assert_allclose(best_responses(market, nash.prices), nash.prices, rtol=1e-9, atol=1e-9)
    assert (nash.prices > market.c).all()
    s = shares(market, nash.prices)
    assert abs(s.sum() - 1.0) < 1e-12 and (s >= 0).all()
    joint = joint_optimum(market)
    assert joint.profits.sum() >= nash.profits.sum() - 1e-12
    # the joint optimum is a maximum of total profit: small moves do not raise it
    for i in range(market.n):
        for eps in (-1e-4, 1e-4):
            moved = joint.prices.copy()
            moved[i] += eps
            assert profits(market, moved).sum() <= joint.profits.sum() + 1e-12


@settings(max_examples=60, deadline=None)
@given(market=markets, data=st.data())
def test_a_best_response_beats_nearby_prices(market, data):
    p = np.array([data.draw(st.floats(float(c), float(c) + 3.0)) for c in market.c])
    br = best_responses(market, p)
    for i in range(market.n):
        here = p.copy()
        here[i] = br[i]
        best = profits(market, here)[i]
        for eps in (-1e-3, 1e-3, -0.1, 0.1):
            there = here.copy()
            there[i] += eps
            assert profits(market, there)[i] <= best + 1e-12


@given(servers=st.integers(0, 30), load=st.floats(0.0, 50.0), more=st.floats(0.01, 5.0))
def test_erlang_b_is_a_probability_rising_with_load_and_falling_with_servers(servers, load, more):
    b = float(erlang_b(servers, load))
    assert 0.0 <= b <= 1.0
    assert float(erlang_b(servers, load + more)) >= b - 1e-15
    assert float(erlang_b(servers + 1, load)) <= b + 1e-15
