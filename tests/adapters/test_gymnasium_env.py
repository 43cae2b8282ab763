"""The Gymnasium view: one central agent posting every station's price."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import evprice
from evprice.core.actions import ActionError
from evprice.envs import make_env


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("env_id", ["CoupledNetwork-v0", "SiouxFalls-v0", "GridCharging-v0", "PublicCharging-v0"])
def test_passes_gymnasiums_checker(env_id):
    check_env(evprice.make_gym(env_id), skip_render_check=True)


def test_action_is_the_price_vector_and_cost_comes_every_step():
    env = evprice.make_gym("CoupledNetwork-v0")
    np.testing.assert_allclose(env.action_space.low, [1.1, 1.3, 1.2])
    np.testing.assert_allclose(env.action_space.high, [1.4, 1.5, 1.4])
    obs, _ = env.reset(seed=3)
    assert obs.shape == env.observation_space.shape and len(env.observation_names) == obs.shape[0]
    # the same episode through the batched env, prices as actions
    ref = make_env("CoupledNetwork-v0")
    ref.reset(seed=3)
    price = np.array([1.2, 1.45, 1.3])
    for k in range(12):
        obs, reward, terminated, truncated, info = env.step(price)
        _, r_ref, _, _, i_ref = ref.step(ref.prices_to_actions(price[None]))
        assert reward == pytest.approx(r_ref[0].mean())
        assert info["cost"] == pytest.approx(i_ref["cost"][0, 0])
        assert isinstance(info["cost"], float)
        np.testing.assert_allclose(info["station"]["price"], price)
        assert info["grid"]["vm_min_pu"] == pytest.approx(i_ref["grid"]["vm_min_pu"][0])
        assert not terminated and truncated == (k == 11)
    np.testing.assert_allclose(obs, ref.global_state()[0])
    with pytest.raises(RuntimeError, match="reset"):
        env.step(price)


def test_out_of_bounds_prices_are_clipped_and_bad_actions_raise():
    env = evprice.make_gym("CoupledNetwork-v0")
    env.reset(seed=0)
    info = env.step([5.0, 0.0, 1.3])[4]
    np.testing.assert_allclose(info["station"]["price"], [1.4, 1.3, 1.3])
    with pytest.raises(ActionError, match="shape"):
        env.step([1.2, 1.3])
    with pytest.raises(ActionError, match="non-finite"):
        env.step([1.2, np.nan, 1.3])


def test_the_posted_prices_are_the_agents_prices_to_the_last_bit():
    """The view posts the prices it is given, not their round trip through [-1, 1]."""
    env = evprice.make_gym("PublicCharging-v0")
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    low, high = env.action_space.low.astype(np.float64), env.action_space.high.astype(np.float64)
    for _ in range(20):
        price = rng.uniform(low, high)
        posted = env.step(price)[4]["station"]["price"]
        assert np.array_equal(posted, price)
