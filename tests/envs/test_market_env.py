import numpy as np
import pytest

from evprice.core.actions import ActionError
from evprice.core.config import ConfigError
from evprice.envs import MARKET_INFO_KEYS, STATION_INFO_KEYS, make_env, registered_ids, spec


def test_registry():
    assert "PublicCharging-v0" in registered_ids()
    with pytest.raises(ConfigError, match=r"unknown environment id 'Nope-v0'; registered: .*PublicCharging-v0"):
        make_env("Nope-v0")
    with pytest.raises(ConfigError, match="unknown key 'bogus'"):
        make_env("PublicCharging-v0", bogus=1)
    # a key of other scenarios is named as theirs, not matched to a look-alike (issue 21, friction 8)
    with pytest.raises(ConfigError, match=r"'base_load_scale' for PublicCharging-v0: it is a key of GridCharging-v0, "):
        make_env("PublicCharging-v0", base_load_scale=0.9)
    with pytest.raises(ConfigError, match=r"'road_network' for GridCharging-v0: it is a key of CoupledNetwork-v0, "):
        make_env("GridCharging-v0", road_network="doc2")
    assert spec("PublicCharging-v0").make_config({"n_stations": 3}).n_stations == 3


def test_shapes_and_info():
    env = make_env("PublicCharging-v0", 4, n_stations=3, observability="full")
    obs = env.reset(seed=0)
    assert obs.shape == (4, 3, 8 + 2 * 2) and obs.dtype == np.float32
    assert env.global_state().shape == (4, 3 + 5 * 3)
    obs, reward, terminated, truncated, info = env.step(np.zeros((4, 3, 1)))
    assert reward.shape == (4, 3) and terminated.shape == truncated.shape == (4,)
    assert set(info) == set(STATION_INFO_KEYS) | {"market"}
    assert all(info[k].shape == (4, 3) for k in STATION_INFO_KEYS)
    assert set(info["market"]) == set(MARKET_INFO_KEYS)
    assert (info["cost"] == 0).all()
    # wiring: info occupancy is the column each station's observation names as its own occupancy
    for i, agent in enumerate(env.agent_ids):
        col = env.layout.observation_names(agent).index((f"{agent}.ChargingStationStatus", "occupancy"))
        np.testing.assert_allclose(info["occupancy"][:, i], obs[:, i, col], atol=1e-6)


def test_actions_write_the_price_field():
    env = make_env("PublicCharging-v0", 2, price_min=[1.0, 0.5], price_max=[2.0, 1.5])
    env.reset(seed=0)
    a = np.array([[[-1.0], [1.0]], [[0.0], [5.0]]])  # 5.0 is clipped to 1
    _, _, _, _, info = env.step(a)
    np.testing.assert_allclose(info["price"], [[1.0, 1.5], [1.5, 1.5]])
    np.testing.assert_allclose(env.prices_to_actions([1.25, 0.75])[..., 0], [-0.5, -0.5])
    with pytest.raises(ValueError, match=r"price 3 for station_1 is outside its bounds \[1, 2\]"):
        env.prices_to_actions([3.0, 1.0])


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((2, 2)), r"shape \(2, 2\), expected \(2, 2, 1\)"),
        (np.full((2, 2, 1), np.nan), "non-finite"),
        (np.full((2, 2, 1), np.inf), "non-finite"),
    ],
)
def test_bad_actions_are_errors_and_change_nothing(bad, message):
    env = make_env("PublicCharging-v0", 2)
    env.reset(seed=0)
    before = env.global_state()
    with pytest.raises(ActionError, match=message):
        env.step(bad)
    assert env.world.state.period == 0
    np.testing.assert_array_equal(before, env.global_state())


def test_episode_is_truncated_at_the_horizon():
    env = make_env("PublicCharging-v0", 1, horizon_h=1.0)
    env.reset(seed=0)
    truncs = [env.step(np.zeros((1, 2, 1)))[3][0] for _ in range(4)]
    assert truncs == [False, False, False, True]
    with pytest.raises(RuntimeError, match="episode is over"):
        env.step(np.zeros((1, 2, 1)))


def test_info_arrays_are_the_callers_to_edit():
    """Editing what step() returns must not reach the simulation (regression: info["price"]
    was the state's own price array)."""
    env = make_env("PublicCharging-v0", 2)
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.zeros((2, 2, 1)))
    before = env.global_state().copy()
    for key in STATION_INFO_KEYS:
        info[key][...] = 999
    for key in MARKET_INFO_KEYS:
        info["market"][key][...] = 999
    np.testing.assert_array_equal(env.global_state(), before)


def test_num_envs_is_validated_by_its_own_name():
    with pytest.raises(ValueError, match="num_envs=0 is invalid"):
        make_env("PublicCharging-v0", 0)


def test_settings_a_view_or_scenario_cannot_use_are_refused_when_made():
    """Issue 19: origin_weights passed validation and the first step raised; make(num_envs=) was a TypeError."""
    import evprice

    with pytest.raises(ConfigError, match=r"origin_weights=\(1.0, 1.0\) is invalid for PublicCharging-v0: origin"):
        make_env("PublicCharging-v0", origin_weights=[1, 1])
    with pytest.raises(ConfigError, match=r"num_envs=4 is invalid for make\(\): .* use make_vec"):
        evprice.make("PublicCharging-v0", num_envs=4)
    with pytest.raises(ConfigError, match=r"num_envs=4 is invalid for make_gym\(\)"):
        evprice.make_gym("PublicCharging-v0", num_envs=4)


def test_info_columns_are_read_by_a_slice_only_when_they_are_evenly_spaced():
    from evprice.envs.market_env import _as_slice

    values = np.arange(40.0).reshape(2, 20)
    for columns in ([3], [3, 8], [3, 8, 13], [0, 1, 2], [3, 8, 14], [8, 3], [5, 5]):
        picked = values[:, _as_slice(columns)]
        np.testing.assert_array_equal(picked, values[:, np.array(columns)])
    assert isinstance(_as_slice([3, 8, 14]), np.ndarray) and isinstance(_as_slice([8, 3]), np.ndarray)
