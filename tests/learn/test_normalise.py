"""Running statistics and the normalisers."""

import numpy as np
import pytest

from evprice.learn.normalise import ObservationNormaliser, RewardScaler, RunningMeanStd


def test_running_mean_std_equals_the_whole_sample():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (1000, 4))
    rms = RunningMeanStd((4,), epsilon=0.0)
    for part in np.array_split(x, 7):
        rms.update(part)
    np.testing.assert_allclose(rms.mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(rms.var, x.var(axis=0), rtol=1e-10)


def test_bounds_normaliser_maps_the_declared_range_to_minus_one_one():
    norm = ObservationNormaliser("bounds", np.array([0.0, 10.0, 5.0]), np.array([2.0, 20.0, 5.0]))
    np.testing.assert_allclose(norm(np.array([[0.0, 20.0, 5.0], [1.0, 15.0, 5.0]])), [[-1, 1, 0], [0, 0, 0]])


def test_reward_scaler_divides_by_the_return_std_and_resets_at_episode_end():
    scaler = RewardScaler((1,), gamma=0.5, enabled=True)
    rewards = [np.array([[2.0]]), np.array([[2.0]]), np.array([[2.0]])]
    done = [np.array([False]), np.array([True]), np.array([False])]
    returns = []
    for r, d in zip(rewards, done):
        scaled = scaler(r, d)
        returns.append(scaled)
    # returns seen: 2, 3 (2 * 0.5 + 2), then 2 again (reset after the done)
    expected_var = np.var([2.0, 3.0, 2.0])
    assert returns[-1][0, 0] == pytest.approx(2.0 / np.sqrt(expected_var + 1e-8), rel=1e-3)
    assert RewardScaler((1,), 0.5, enabled=False)(np.array([[7.0]]), np.array([False]))[0, 0] == 7.0
