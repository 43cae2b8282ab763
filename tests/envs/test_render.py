"""render_mode="rgb_array": frames of the market environments and their views."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from matplotlib.text import Text
from pettingzoo.test import parallel_api_test

import evprice
from evprice.envs import MarketEnv, make_env, registered_ids
from evprice.envs.render import FrameRenderer, MarketFrame, clock, draw_frame, frame_labels
from evprice.market.config import MarketConfig


def _rendering(env_id, num_envs=1, **overrides):
    env = make_env(env_id, num_envs, **overrides)
    env.render_mode = "rgb_array"
    return env


def _texts(renderer: FrameRenderer) -> list[str]:
    return [t.get_text() for t in renderer.figure.findobj(Text)]


# 720 pixels wide (9 in at 80 dpi); 80 (1.7 + 0.55 N) pixels high, rounded to even: 224 for N = 2, 268 for N = 3
@pytest.mark.parametrize(
    ("env_id", "height"),
    [("PublicCharging-v0", 224), ("LogitBertrand-v0", 224), ("GridCharging-v0", 268), ("CoupledNetwork-v0", 268)],
)
def test_frames_are_rgb_uint8_of_a_fixed_size(env_id, height):
    env = _rendering(env_id, 2, horizon_h=3)
    env.reset(seed=0)
    first = env.render()
    assert first.shape == (height, 720, 3) and first.dtype == np.uint8
    frames = [first]
    for _ in range(3):
        env.step(np.zeros((2, env.n_agents, 1)))
        frames.append(env.render())
    assert all(f.shape == first.shape and f.dtype == np.uint8 for f in frames)
    assert not np.array_equal(frames[0], frames[1])  # the period in the title changes at least
    assert frames[1].min() < 100 and frames[1].max() == 255  # dark text on a white figure


def test_every_registered_env_renders():
    for env_id in registered_ids():
        env = _rendering(env_id)
        env.reset(seed=0)
        env.step(np.zeros((1, env.n_agents, 1)))
        frame = env.render()
        assert frame.ndim == 3 and frame.shape[1:] == (720, 3) and frame.dtype == np.uint8, env_id


def test_the_posted_price_is_drawn_and_changes_the_pixels():
    frames, renderers = [], []
    for price in (0.8, 1.8):
        env = _rendering("PublicCharging-v0", horizon_h=2)
        env.reset(seed=3)
        env.step(env.prices_to_actions(np.array([[price, 1.234]])))
        frames.append(env.render())
        renderers.append(env._renderer)
        labels = frame_labels(env.frame_data())
        assert labels["price"] == [f"{price:.3f} CNY/kWh", "1.234 CNY/kWh"]
        assert labels["station"] == ["station_1  [0.6, 2]", "station_2  [0.6, 2]"]
        texts = _texts(env._renderer)
        assert f"{price:.3f} CNY/kWh" in texts and "1.234 CNY/kWh" in texts
    assert not np.array_equal(frames[0], frames[1])
    # the same seed and prices draw the same picture
    env = _rendering("PublicCharging-v0", horizon_h=2)
    env.reset(seed=3)
    env.step(env.prices_to_actions(np.array([[0.8, 1.234]])))
    np.testing.assert_array_equal(env.render(), frames[0])


def test_title_gives_day_time_and_period():
    # start 23:30, 15-min periods: after 3 periods it is 00:15 of day 2
    env = _rendering("PublicCharging-v0", start_hour=23.5, horizon_h=2)
    env.reset(seed=0)
    assert frame_labels(env.frame_data())["title"] == "PublicCharging-v0   day 1 23:30   period 0/8"
    for _ in range(3):
        env.step(np.zeros((1, 2, 1)))
    assert frame_labels(env.frame_data())["title"] == "PublicCharging-v0   day 2 00:15   period 3/8"
    assert clock(86_400 + 3_600 + 59) == (2, "01:00")


def test_occupancy_and_queue_match_the_observations():
    env = _rendering(
        "PublicCharging-v0",
        start_hour=12,
        horizon_h=3,
        when_full="queue",
        waiting_spaces=3,
        chargers_per_station=2,
        arrivals_per_station_per_day=300,
    )
    env.reset(seed=1)
    names = env.layout.state_names
    seen_queue = False
    for _ in range(12):
        env.step(env.prices_to_actions(np.array([[0.6, 0.6]])))  # cheap: stations fill up
        state = env.global_state()[0]
        frame = env.frame_data()
        labels = frame_labels(frame)["occupancy"]
        for i, a in enumerate(env.agent_ids):
            busy = round(float(state[names.index((f"{a}.ChargingStationStatus", "occupancy"))]) * 2)
            queue = int(state[names.index((f"{a}.ChargingStationStatus", "queue"))])
            assert labels[i] == f"{busy}/2 busy, queue {queue}/3"
            seen_queue |= queue > 0
    assert seen_queue


def test_an_expected_demand_market_says_it_has_no_chargers():
    """Issue 21, friction 6: LogitBertrand-v0's expected demand showed "0/4 busy"."""
    env = _rendering("LogitBertrand-v0")
    env.reset(seed=0)
    env.step(np.zeros((1, 2, 1)))
    assert frame_labels(env.frame_data())["occupancy"] == ["expected demand: no chargers"] * 2
    env = _rendering("LogitBertrand-v0", demand="sampled")  # the simulated market has its chargers
    env.reset(seed=0)
    assert frame_labels(env.frame_data())["occupancy"] == ["0/4 busy"] * 2


def test_grid_frames_show_the_station_bus_voltages_and_the_feeder_minimum():
    env = _rendering("CoupledNetwork-v0")
    env.reset(seed=0)
    frame = env.frame_data()
    names = env.layout.state_names
    state = env.global_state()[0]
    expected = [state[names.index((f"{a}.StationGridStatus", "bus_vm"))] for a in env.agent_ids]
    np.testing.assert_allclose(frame.bus_vm_pu, expected, rtol=1e-6)  # the base-load power flow, before any period
    assert frame.vm_min_pu is None and frame.vm_band_pu == (0.95, 1.05) and frame.station_buses == (31, 13, 19)
    _, _, _, _, info = env.step(np.zeros((1, 3, 1)))
    frame = env.frame_data()
    np.testing.assert_array_equal(frame.bus_vm_pu, info["grid"]["bus_vm_pu"][0])
    assert frame.vm_min_pu == info["grid"]["vm_min_pu"][0] and frame.cost == info["cost"][0, 0]
    labels = frame_labels(frame)
    vm = info["grid"]["bus_vm_pu"][0]
    assert labels["voltage"] == [f"bus {b}: {v:.4f} p.u." for b, v in zip((31, 13, 19), vm)]
    assert labels["feeder"] == f"feeder min {info['grid']['vm_min_pu'][0]:.4f} p.u."
    env.render()
    assert labels["feeder"] in _texts(env._renderer)
    assert set(frame_labels(_plain_frame())) == {"title", "footer", "station", "price", "occupancy"}  # no grid


def _plain_frame():
    env = make_env("PublicCharging-v0")
    env.reset(seed=0)
    return env.frame_data()


def test_draw_frame_is_pure():
    frame = MarketFrame(
        env_id="Hand-v0",
        period=2,
        n_periods=4,
        time_s=3_600,
        currency="EUR",
        station_ids=("a", "b", "c"),
        price_per_kwh=np.array([0.3, 0.4, 0.5]),
        price_min_per_kwh=np.array([0.2, 0.2, 0.2]),
        price_max_per_kwh=np.array([0.6, 0.6, 0.6]),
        chargers_busy=np.array([1, 2, 0]),
        chargers=np.array([2, 2, 2]),
        profit=np.array([1.0, 2.0, 3.5]),
    )
    image = draw_frame(frame)
    assert image.shape == (268, 720, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(draw_frame(frame), image)
    labels = frame_labels(frame)
    assert labels["title"] == "Hand-v0   day 1 01:00   period 2/4"
    assert labels["occupancy"] == ["1/2 busy", "2/2 busy", "0/2 busy"]
    assert labels["footer"] == "last period: market profit 6.50 EUR"
    renderer = FrameRenderer()
    first = renderer(frame)
    second = renderer(MarketFrame(**{**frame.__dict__, "price_per_kwh": np.array([0.6, 0.4, 0.5])}))
    changed = np.argwhere((first != second).any(axis=2))
    occupancy_panel_x0 = renderer.figure.axes[1].get_window_extent().x0
    assert len(changed) > 0 and changed[:, 1].max() < occupancy_panel_x0  # only the price panel (left) changes


def test_a_hand_made_grid_frame_marks_voltages_outside_the_band():
    frame = MarketFrame(
        env_id="Hand-v0",
        period=1,
        n_periods=2,
        time_s=0,
        currency="CU",
        station_ids=("a", "b"),
        price_per_kwh=np.array([1.0, 1.0]),
        price_min_per_kwh=np.array([0.5, 0.5]),
        price_max_per_kwh=np.array([1.5, 1.5]),
        chargers_busy=np.array([0, 0]),
        chargers=np.array([1, 1]),
        profit=np.array([0.0, 0.0]),
        cost=0.25,
        bus_vm_pu=np.array([0.97, np.nan]),
        station_buses=(5, 9),
        vm_min_pu=0.93,
        vm_band_pu=(0.95, 1.05),
    )
    labels = frame_labels(frame)
    assert labels["voltage"] == ["bus 5: 0.9700 p.u.", "bus 9: no converged flow"]
    assert labels["feeder"] == "feeder min 0.9300 p.u."
    assert labels["footer"] == "last period: market profit 0.00 CU, constraint cost 0.25"
    renderer = FrameRenderer()
    image = renderer(frame)
    assert image.shape == (224, 720, 3)
    colours = renderer._artists["vm"].get_facecolors()[:, :3]
    np.testing.assert_allclose(colours[0], [0x1A / 255, 0x7F / 255, 0x37 / 255])  # inside the band: green
    np.testing.assert_allclose(colours[1], [0xD6 / 255, 0x27 / 255, 0x28 / 255])  # no flow (drawn at the edge): red


def test_render_mode_none_renders_nothing_and_bad_modes_name_the_allowed_ones():
    env = make_env("PublicCharging-v0")
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode=None"):
        assert env.render() is None
    message = "render_mode='human' is invalid: expected None or one of 'rgb_array'"
    with pytest.raises(ValueError, match=message):
        env.render_mode = "human"
    with pytest.raises(ValueError, match=message):
        MarketEnv(MarketConfig(), render_mode="human")
    for make in (evprice.make, evprice.make_gym, evprice.make_vec):
        with pytest.raises(ValueError, match=message):
            make("PublicCharging-v0", render_mode="human")
    assert MarketEnv(MarketConfig(), render_mode="rgb_array").render_mode == "rgb_array"
    with pytest.raises(RuntimeError, match="reset"):
        _rendering("PublicCharging-v0").render()


def test_pettingzoo_gymnasium_and_vector_views_render_member_0():
    par = evprice.make("PublicCharging-v0", render_mode="rgb_array", horizon_h=2)
    assert par.render_mode == "rgb_array" and par.metadata["render_modes"] == ["rgb_array"]
    assert par.metadata["render_fps"] == 2
    parallel_api_test(par, num_cycles=20)
    par.reset(seed=5)
    par.step({a: np.array([0.5], dtype=np.float32) for a in par.agents})
    ref = _rendering("PublicCharging-v0", horizon_h=2)
    ref.reset(seed=5)
    ref.step(np.full((1, 2, 1), 0.5))
    np.testing.assert_array_equal(par.render(), ref.render())

    gym_env = evprice.make_gym("CoupledNetwork-v0", render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(gym_env)  # with its render check
    gym_env.reset(seed=0)
    assert gym_env.render().shape == (268, 720, 3)
    assert evprice.make_gym("CoupledNetwork-v0").render_mode is None

    vec = evprice.make_vec("PublicCharging-v0", 3, render_mode="rgb_array", horizon_h=2)
    vec.reset(seed=5)
    vec.step(np.full((3, 2, 1), 0.5))
    np.testing.assert_array_equal(vec.render(), ref.render())  # member 0 of the same seed
    vec.close()


def test_importing_and_making_envs_does_not_import_matplotlib():
    code = (
        "import sys, evprice; env = evprice.make('GridCharging-v0'); env.reset(seed=0); "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
