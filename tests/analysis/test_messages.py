"""The probes of what a protocol's signals carry, on signals whose information is known."""

import numpy as np
import pytest

from evprice.analysis.messages import linear_probe, protocol_signal, signal_measures, signal_trace


def _walk(rng, t, e, n):
    return 1.5 + 0.1 * rng.standard_normal((t, e, n))


def test_a_truthful_announcement_explains_the_next_price_and_the_current_one_does_not():
    """Each station announces exactly its next price, and prices are independent over time:
    the signal explains all of the next price out of sample, the current price none of it
    (R^2 about 0, here within 0.1 over 400 judged periods), so the gain is about 1."""
    rng = np.random.default_rng(0)
    price = _walk(rng, 101, 8, 2)
    signal = np.empty((101, 8, 2, 1))
    signal[:-1, ..., 0] = price[1:]
    signal[-1, ..., 0] = 1.5  # the last announcement is never judged
    probe = linear_probe(signal, price)
    for p in probe:
        assert p["r2"] == pytest.approx(1.0, abs=1e-12)
        assert abs(p["r2_price"]) < 0.1
        assert p["r2_gain"] == pytest.approx(1.0 - p["r2_price"], abs=1e-9)


def test_a_signal_with_half_the_information_explains_half_the_variance():
    """next = s + u with s and u independent and of equal variance: R^2 = var(s) / (var(s) + var(u)) = 1/2."""
    rng = np.random.default_rng(1)
    t, e = 2001, 8
    s = rng.standard_normal((t, e, 1, 1))
    price = np.zeros((t, e, 1))
    price[1:, :, 0] = s[:-1, :, 0, 0] + rng.standard_normal((t - 1, e))
    (probe,) = linear_probe(s, price)
    assert probe["r2"] == pytest.approx(0.5, abs=0.03)


def test_a_constant_signal_carries_nothing_and_a_constant_price_has_no_r2():
    rng = np.random.default_rng(2)
    price = _walk(rng, 50, 4, 1)
    (probe,) = linear_probe(np.zeros((50, 4, 1, 2)), price)
    assert probe["r2"] <= 0.0 and probe["r2"] > -0.2 and probe["signal_std"] == 0.0
    (flat,) = linear_probe(rng.standard_normal((50, 4, 1, 1)), np.full((50, 4, 1), 1.2))
    assert flat["r2"] is None and flat["r2_price"] is None and flat["r2_gain"] is None
    with pytest.raises(ValueError, match="at least 3 periods"):
        linear_probe(np.zeros((2, 4, 1, 1)), np.zeros((2, 4, 1)))


def test_each_protocols_signal_and_a_policy_that_follows_the_mediator():
    info = {
        "talk": {"message": np.ones((2, 3, 2))},
        "announce": {"next_price": np.full((2, 3), 1.4)},
        "mediator": {"next_price": np.full((2, 3), 1.7)},
    }
    assert protocol_signal(info, "cheap_talk").shape == (2, 3, 2)
    assert protocol_signal(info, "announcement")[..., 0].tolist() == [[1.4] * 3] * 2
    assert protocol_signal(info, "mediator").shape == (2, 3, 1)
    with pytest.raises(ValueError, match="has no signal"):
        protocol_signal(info, "none")

    def mediator_says(env):  # recommends the top of each station's bounds; the stations post price-only 0
        def policy(obs):
            actions = np.zeros((env.num_envs, env.n_agents, env.action_size))
            actions[:, -1, : env.n_stations] = 1.0
            return actions

        return policy

    overrides = {"protocol": "mediator", "horizon_h": 2.0}
    signal, price = signal_trace("PublicCharging-v0", mediator_says, seed=0, overrides=overrides, episodes=2)
    assert signal.shape == (8, 2, 2, 1) and price.shape == (8, 2, 2)
    np.testing.assert_allclose(signal[..., 0], 2.0)  # PublicCharging-v0's price_max
    measures = signal_measures("PublicCharging-v0", mediator_says, seed=0, overrides=overrides, episodes=2)
    middle = 0.5 * (0.6 + 2.0)  # the stations ignore it and post the middle of their bounds
    np.testing.assert_allclose(measures["signal_gap"], [2.0 - middle] * 2)
    assert measures["signal_r2"] == [None, None]  # their prices never vary
