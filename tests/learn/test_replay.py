"""The replay buffer: order, overwrite, validation, round trip."""

import numpy as np
import pytest

from evprice.learn.replay import ReplayBuffer


def _fill(buf, n, start=0):
    for i in range(start, start + n):
        buf.add([i, -i], [0.5 * i], float(i), 0.1 * i, [i + 1, -i - 1], i % 3 == 0)


def test_keeps_the_last_transitions_oldest_first():
    buf = ReplayBuffer(4, obs_dim=2, act_dim=1)
    _fill(buf, 3)
    assert len(buf) == 3 and buf.data()["reward"].tolist() == [0.0, 1.0, 2.0]
    _fill(buf, 3, start=3)  # 6 added into 4 places: 2 .. 5 remain
    d = buf.data()
    assert len(buf) == 4 and d["reward"].tolist() == [2.0, 3.0, 4.0, 5.0]
    np.testing.assert_array_equal(d["obs"][:, 0], [2, 3, 4, 5])
    np.testing.assert_array_equal(d["next_obs"][:, 1], [-3, -4, -5, -6])
    assert d["done"].tolist() == [False, True, False, False]


def test_bad_transitions_are_refused():
    buf = ReplayBuffer(2, obs_dim=2, act_dim=1)
    with pytest.raises(ValueError, match=r"obs has shape \(3,\), expected \(2,\)"):
        buf.add([1, 2, 3], [0], 0.0, 0.0, [1, 2], False)
    with pytest.raises(ValueError, match="reward holds a non-finite value"):
        buf.add([1, 2], [0], float("nan"), 0.0, [1, 2], False)
    with pytest.raises(ValueError, match="capacity=0 is invalid"):
        ReplayBuffer(0, 1, 1)


def test_state_round_trip():
    buf = ReplayBuffer(4, obs_dim=2, act_dim=1)
    _fill(buf, 6)
    other = ReplayBuffer(4, obs_dim=2, act_dim=1)
    other.load_state_dict(buf.state_dict())
    for k, v in buf.data().items():
        np.testing.assert_array_equal(other.data()[k], v)
    _fill(other, 1, start=6)
    assert other.data()["reward"].tolist() == [3.0, 4.0, 5.0, 6.0]
