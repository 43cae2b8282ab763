import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from evprice.market import kernel
from evprice.market.choice import ADMITTED, BLOCKED, GAVE_UP, logit_probabilities


def choose(utility, outside_utility, has_free, reroute):
    """The compiled rule (one driver per call) over the rows of ``utility`` (B, N)."""
    n = utility.shape[1]
    places = np.ones(n, dtype=np.int64)
    rows = [
        kernel.choose(
            np.ascontiguousarray(utility[i], dtype=np.float64),
            (~has_free[i]).astype(np.float64),  # one place each: free iff nobody is there
            places,
            0.0 if outside_utility is None else float(outside_utility[i]),
            outside_utility is not None,
            reroute,
        )
        for i in range(utility.shape[0])
    ]
    station, status = np.array(rows).T
    return station, status


def test_logit_probabilities_by_hand():
    # v = (-1, -2), outside 0, scale 1: weights e^-1, e^-2, 1
    w = np.array([np.exp(-1), np.exp(-2), 1.0])
    np.testing.assert_allclose(logit_probabilities(np.array([-1.0, -2.0]), 0.0, 1.0), w / w.sum())
    np.testing.assert_allclose(logit_probabilities(np.array([0.0, 0.0]), None, 2.0), [0.5, 0.5, 0.0])


def test_gumbel_argmax_gives_logit_shares():
    rng = np.random.default_rng(0)
    v = np.array([-1.0, -1.5, -0.2])
    n = 100_000
    noise = rng.gumbel(0, 0.7, size=(n, 4))
    station, status = choose(v + noise[:, :3], -0.8 + noise[:, 3], np.ones((n, 3), bool), reroute=False)
    observed = np.bincount(np.where(status == GAVE_UP, 3, station), minlength=4) / n
    expected = logit_probabilities(v, -0.8, 0.7)
    # 4 standard errors of a multinomial proportion
    assert np.all(np.abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / n))


def test_block_and_reroute_rules():
    u = np.array([[3.0, 2.0, 1.0]])
    free = np.array([[False, True, True]])
    station, status = choose(u, None, free, reroute=False)
    assert (station[0], status[0]) == (0, BLOCKED)
    station, status = choose(u, None, free, reroute=True)
    assert (station[0], status[0]) == (1, ADMITTED)
    station, status = choose(u, None, np.zeros((1, 3), bool), reroute=True)
    assert (station[0], status[0]) == (0, BLOCKED)  # counted against the first choice
    station, status = choose(u, np.array([5.0]), free, reroute=True)
    assert status[0] == GAVE_UP
    # turned away by the full first choice, the driver prefers the outside option (2.5)
    # to the best free station (2.0): lost to capacity, so blocked at station 0
    station, status = choose(u, np.array([2.5]), free, reroute=True)
    assert (station[0], status[0]) == (0, BLOCKED)
    station, status = choose(u, np.array([1.5]), free, reroute=True)
    assert (station[0], status[0]) == (1, ADMITTED)


@given(
    u=st.lists(st.floats(-5, 5), min_size=1, max_size=5),
    free_bits=st.integers(0, 31),
    outside=st.one_of(st.none(), st.floats(-5, 5)),
    reroute=st.booleans(),
)
def test_choice_properties(u, free_bits, outside, reroute):
    n = len(u)
    util = np.array([u])
    free = np.array([[(free_bits >> k) & 1 == 1 for k in range(n)]])
    station, status = choose(util, None if outside is None else np.array([outside]), free, reroute)
    k, code = int(station[0]), int(status[0])
    assert 0 <= k < n
    best_free = util[0][free[0]].max() if free.any() else -np.inf
    beats_outside = lambda x: outside is None or x >= outside  # noqa: E731
    if code == ADMITTED:
        assert free[0, k]
        # the admitted station is the best free one (reroute) or the best overall (block)
        assert util[0, k] == (best_free if reroute else util[0].max())
        assert beats_outside(util[0, k])
    elif code == BLOCKED:
        assert util[0, k] == util[0].max() and not free[0, k]  # its first choice, full
        assert beats_outside(util[0].max())
        if reroute:
            assert not free.any() or not beats_outside(best_free)
    else:
        assert code == GAVE_UP and outside is not None and outside > util.max()
