import numpy as np
import pytest

import evprice


def test_vector_with_one_env_is_the_pettingzoo_env():
    """One implementation serves both views: same seed and actions, same numbers."""
    pz = evprice.make(n_stations=3)
    vec = evprice.make_vec("PublicCharging-v0", 1, n_stations=3)
    obs_pz, _ = pz.reset(seed=5)
    obs_vec, _ = vec.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(150):  # crosses an episode boundary (96 periods)
        a = rng.uniform(-1, 1, (1, 3, 1))
        if not pz.agents:
            obs_pz, _ = pz.reset()
        for i, agent in enumerate(pz.possible_agents):
            np.testing.assert_array_equal(obs_pz[agent], obs_vec[0, i])
        obs_pz, r_pz, _, tr_pz, info_pz = pz.step({ag: a[0, i] for i, ag in enumerate(pz.possible_agents)})
        obs_vec, r_vec, _, tr_vec, info_vec = vec.step(a)
        assert [r_pz[ag] for ag in pz.possible_agents] == r_vec[0].tolist()
        assert [info_pz[ag]["profit"] for ag in pz.possible_agents] == info_vec["profit"][0].tolist()
        if tr_vec.any():
            for i, agent in enumerate(pz.possible_agents):
                np.testing.assert_array_equal(obs_pz[agent], info_vec["final_obs"][0, i])
            obs_pz, _ = pz.reset()
            for i, agent in enumerate(pz.possible_agents):
                np.testing.assert_array_equal(obs_pz[agent], obs_vec[0, i])


def test_shapes_and_auto_reset():
    vec = evprice.make_vec("PublicCharging-v0", 8, horizon_h=1.0)
    obs, _ = vec.reset(seed=0)
    assert obs.shape == (8, 2, 8)
    for k in range(4):
        obs, rew, term, trunc, info = vec.step(np.zeros((8, 2, 1)))
        assert rew.shape == term.shape == trunc.shape == (8, 2)
        assert trunc.all() == (k == 3) and not term.any()
    assert info["final_obs"].shape == (8, 2, 8) and info["final_state"].shape == (8, 13)
    # the returned observation starts a new episode: midnight, empty stations, zero EMAs
    assert np.allclose(obs[:, :, 1:3], [0.0, 1.0]) and (obs[:, :, 3] == 0).all() and (obs[:, :, 5:] == 0).all()
    assert not np.allclose(info["final_obs"][:, :, 5:], 0)
    assert vec.state().shape == (8, 13)


def test_step_before_reset():
    with pytest.raises(RuntimeError, match="reset"):
        evprice.make_vec("PublicCharging-v0", 2).step(np.zeros((2, 2, 1)))
