"""GridCharging-v0: the stations' draw reaches the buses, costs are reported every step."""

import numpy as np
import pytest

import evprice
from evprice.core.config import ConfigError
from evprice.envs import make_env
from evprice.grid.features import LINE_LOADING, STATION_GRID, STRESS_MAX
from evprice.grid.feeders import doc2
from evprice.grid.powerflow import FastRadialSolver
from evprice.grid.profiles import IEEE_RTS_WINTER_WEEKDAY

GRID_KEYS = {
    "cost_voltage",
    "cost_line",
    "cost_carbon",
    "cost",
    "converged",
    "vm_min_pu",
    "max_line_loading",
    "feeder_stress",
    "carbon_intensity_g_per_kwh",
    "p_loss_mw",
    "p_slack_mw",
    "station_p_mw",
    "station_carbon_g_per_kwh",
    "station_emissions_kg",
    "bus_vm_pu",
}


def reference_solver():
    """pandapower when installed (an independent solver), else the fast one."""
    try:
        from evprice.grid.pandapower_backend import PandapowerSolver

        return PandapowerSolver(doc2())
    except ImportError:
        return FastRadialSolver(doc2())


def test_station_draw_is_added_to_its_bus_and_the_costs_follow():
    """Rebuild each period's bus loads from the published loads, the IEEE RTS profile and the
    energy the stations sold, solve them independently and compare."""
    env = make_env("GridCharging-v0", 2, base_load_noise_std=0.0, start_hour=16.5, horizon_h=1.0)  # across 17:00
    env.reset(seed=3)
    f, ref = doc2(), reference_solver()
    prices = env.prices_to_actions(np.array([[1.0, 1.2, 1.4], [1.6, 1.3, 1.1]]))
    energy_seen = 0.0
    for k in range(env.n_periods):
        _, _, _, _, info = env.step(prices)
        g = info["grid"]
        period_h = 0.25
        station_mw = info["energy_kwh"] / 0.95 / period_h / 1e3  # delivered / efficiency, averaged over 15 min
        np.testing.assert_allclose(g["station_p_mw"], station_mw, rtol=1e-12)
        hour = int(16.5 + k * period_h)
        p = IEEE_RTS_WINTER_WEEKDAY[hour] * np.tile(f.load_p_mw, (2, 1))
        q = IEEE_RTS_WINTER_WEEKDAY[hour] * np.tile(f.load_q_mvar, (2, 1))
        for i, bus in enumerate((31, 13, 19)):
            p[:, bus] += station_mw[:, i]
        res = ref.solve(p, q)
        np.testing.assert_allclose(g["vm_min_pu"], res.vm_pu.min(axis=1), atol=1e-6)
        np.testing.assert_allclose(g["p_slack_mw"], res.p_slack_mw, atol=1e-6)
        np.testing.assert_allclose(g["bus_vm_pu"], res.vm_pu[:, [31, 13, 19]], atol=1e-6)
        violation = (np.maximum(0.95 - res.vm_pu, 0) + np.maximum(res.vm_pu - 1.05, 0)).sum(axis=1)
        np.testing.assert_allclose(g["cost_voltage"], violation, atol=1e-6)
        overload = np.maximum(res.line_loading[:, [9, 17, 27]] - 0.9, 0).sum(axis=1)
        np.testing.assert_allclose(g["cost_line"], overload, atol=1e-6)
        np.testing.assert_allclose(
            g["cost"], g["cost_voltage"] + g["cost_line"] + 0.002 * g["cost_carbon"], rtol=1e-12, atol=1e-15
        )
        np.testing.assert_array_equal(info["cost"], np.repeat(g["cost"][:, None], 3, axis=1))
        energy_seen += info["energy_kwh"].sum()
    assert energy_seen > 0  # the evening peak: the check above saw real charging loads


@pytest.mark.parametrize("every", ["period", "substep"])
def test_carbon_follows_the_bus(every):
    """Bus 19 draws the grid's 700 g/kWh in the daytime, bus 13 the 900 g/kWh generator's:
    only energy drawn at bus 13 exceeds the 785 g/kWh cap, by 115 g for every kWh."""
    common = dict(start_hour=9.0, horizon_h=6.0, powerflow_every=every)
    clean = make_env("GridCharging-v0", 4, station_buses=[19, 19, 19], **common)
    dirty = make_env("GridCharging-v0", 4, station_buses=[13, 13, 13], **common)
    for env in (clean, dirty):
        env.reset(seed=0)
    action = np.zeros((4, 3, 1))
    kg_clean = kg_dirty = kwh_dirty = 0.0
    for _ in range(clean.n_periods):
        _, _, _, _, info_c = clean.step(action)
        _, _, _, _, info_d = dirty.step(action)
        kg_clean += info_c["grid"]["cost_carbon"].sum()
        kg_dirty += info_d["grid"]["cost_carbon"].sum()
        kwh_dirty += info_d["energy_kwh"].sum() / 0.95
        np.testing.assert_allclose(info_d["grid"]["station_carbon_g_per_kwh"], 900.0)
        np.testing.assert_allclose(
            info_d["grid"]["station_emissions_kg"], info_d["energy_kwh"] / 0.95 * 900.0 / 1e3, rtol=1e-9
        )
    assert kg_clean == 0.0
    assert kg_dirty == pytest.approx(kwh_dirty * 115.0 / 1e3, rel=1e-9) and kg_dirty > 0
    no_cap = make_env("GridCharging-v0", 1, station_buses=[13, 13, 13], carbon_cap_g_per_kwh=None)
    no_cap.reset(seed=0)
    assert all((no_cap.step(np.zeros((1, 3, 1)))[4]["grid"]["cost_carbon"] == 0).all() for _ in range(96))


def test_costs_on_every_step_including_the_last():
    vec = evprice.make_vec("GridCharging-v0", 3, horizon_h=1.0)
    vec.reset(seed=0)
    for k in range(8):  # two episodes; steps 3 and 7 end them
        _, _, _, truncated, info = vec.step(np.zeros((3, 3, 1)))
        assert set(info["grid"]) == GRID_KEYS
        assert np.isfinite(info["cost"]).all() and (info["cost"] >= 0).all()
        assert info["grid"]["converged"].all()
        assert truncated.all() == (k % 4 == 3)
        if k % 4 == 3:
            assert "final_obs" in info


def test_indicator_cost_counts_the_violating_periods_of_the_weighted_cost():
    """Same scenarios, same prices: the indicator cost is 1 exactly where the weighted one is above 0."""
    weighted, indicator = (make_env("GridCharging-v0", 8, cost_form=f) for f in ("weighted", "indicator"))
    weighted.reset(seed=3), indicator.reset(seed=3)
    seen = set()
    for _ in range(96):
        action = np.full((8, 3, 1), -0.6)
        *_, w_info = weighted.step(action)
        *_, i_info = indicator.step(action)
        np.testing.assert_array_equal(i_info["cost"], (w_info["cost"] > 0).astype(float))
        np.testing.assert_array_equal(i_info["grid"]["cost_voltage"], w_info["grid"]["cost_voltage"])
        seen.update(np.unique(i_info["cost"]).tolist())
    assert seen == {0.0, 1.0}  # the test saw both kinds of period


def test_observations_by_grid_observability():
    published = make_env("GridCharging-v0", 1)
    names = published.layout.observation_names("station_1")
    assert ("GridSignal", "carbon_intensity") in names and ("GridSignal", "feeder_stress") in names
    assert not any(STATION_GRID in key or LINE_LOADING in key for key, _ in names)
    state = published.layout.state_names
    assert ("station_2.StationGridStatus", "bus_vm") in state and ("FeederLineLoading", "line_27") in state
    full = make_env("GridCharging-v0", 1, grid_observability="full")
    names = full.layout.observation_names("station_1")
    assert ("station_1.StationGridStatus", "bus_vm") in names and ("station_3.StationGridStatus", "bus_vm") in names
    assert [n for n in names if n[0] == LINE_LOADING] == [(LINE_LOADING, f"line_{k}") for k in (9, 17, 27)]


def test_observed_grid_values_are_the_latest_power_flow():
    env = make_env("GridCharging-v0", 2, grid_observability="full")
    env.reset(seed=1)
    names = env.layout.observation_names("station_1")
    col = {n: i for i, n in enumerate(names)}
    for _ in range(40):
        obs, _, _, _, info = env.step(np.full((2, 3, 1), -0.5))
    g = info["grid"]
    np.testing.assert_allclose(obs[:, 0, col[("GridSignal", "feeder_stress")]], g["feeder_stress"], rtol=1e-6)
    for i in range(3):
        np.testing.assert_allclose(
            obs[:, 0, col[(f"station_{i + 1}.StationGridStatus", "bus_vm")]], g["bus_vm_pu"][:, i], rtol=1e-6
        )
    np.testing.assert_allclose(
        obs[:, 0, col[("GridSignal", "carbon_intensity")]], g["carbon_intensity_g_per_kwh"], rtol=1e-6
    )


def test_a_failed_power_flow_is_reported_not_raised():
    env = evprice.make("GridCharging-v0", base_load_scale=6.0, horizon_h=1.0)
    obs, _ = env.reset(seed=0)
    for a in env.agents:
        assert env.observation_space(a).contains(obs[a])
    while env.agents:
        obs, _, _, _, infos = env.step({a: np.zeros(1, np.float32) for a in env.agents})
        g = infos["station_1"]["grid"]
        # judged at the worst observable state: 32 buses at 0 p.u., 3 monitored lines at 10x
        assert g["converged"] is False
        assert g["cost_voltage"] == pytest.approx(32 * 0.95) and g["cost_line"] == pytest.approx(3 * (10.0 - 0.9))
        expected = 32 * 0.95 + 3 * (10.0 - 0.9) + 0.002 * g["cost_carbon"] + 10.0
        assert g["cost"] == pytest.approx(expected) and infos["station_2"]["cost"] == g["cost"]
        assert np.isnan(g["vm_min_pu"]) and np.isnan(g["p_loss_mw"])  # unknown, not made up
        for a in obs:
            assert np.isfinite(obs[a]).all() and env.observation_space(a).contains(obs[a])
        stress = env.env.layout.observation_names("station_1").index(("GridSignal", "feeder_stress"))
        assert obs["station_1"][stress] == STRESS_MAX
        assert env.state_space.contains(env.state())


def test_periods_with_some_failed_sub_steps():
    """Near collapse some sub-steps of a period converge and some do not: measurements come
    from those that did, costs judge the others at the worst case."""
    env = make_env(
        "GridCharging-v0", 4, base_load_scale=3.62, powerflow_every="substep", start_hour=16.0, horizon_h=3.0
    )
    env.reset(seed=0)
    partial = 0
    for _ in range(env.n_periods):
        _, _, _, _, info = env.step(np.full((4, 3, 1), -1.0))
        g = info["grid"]
        for b in np.flatnonzero(~g["converged"]):
            if np.isfinite(g["vm_min_pu"][b]):  # some of its sub-steps converged
                partial += 1
                assert g["vm_min_pu"][b] < 0.95 and np.isfinite(g["bus_vm_pu"][b]).all()
                assert g["cost"][b] > 10.0 / 15  # at least one failed sub-step's penalty share
        assert np.isfinite(g["station_emissions_kg"]).all() and np.isfinite(g["cost"]).all()
    assert partial > 0


def test_substep_power_flows_equal_the_period_one_when_a_period_is_one_step():
    a = make_env("GridCharging-v0", 2, dt_s=900, powerflow_every="period")
    b = make_env("GridCharging-v0", 2, dt_s=900, powerflow_every="substep")
    a.reset(seed=5)
    b.reset(seed=5)
    for _ in range(30):
        x, y = a.step(np.zeros((2, 3, 1))), b.step(np.zeros((2, 3, 1)))
        np.testing.assert_array_equal(x[0], y[0])
        for key in GRID_KEYS:
            np.testing.assert_array_equal(x[4]["grid"][key], y[4]["grid"][key])


def rebuilt_loads(station_mw, factor):
    """Bus loads of doc2 at base-load ``factor`` (M,) with the stations' draw (M, 3) at 31, 13, 19."""
    f = doc2()
    p = np.outer(factor, f.load_p_mw)
    q = np.outer(factor, f.load_q_mvar)
    p[:, [31, 13, 19]] += station_mw
    return p, q


def test_substep_costs_aggregate_the_sub_steps_power_flows():
    """Replay the market alone (the grid does not touch its random streams) to get every
    sub-step's energy, solve each sub-step independently and aggregate by hand."""
    from evprice.market.world import MarketWorld

    common = dict(base_load_noise_std=0.0, start_hour=17.0, horizon_h=0.5, powerflow_every="substep")
    env = make_env("GridCharging-v0", 2, **common)
    env.reset(seed=2)
    world = MarketWorld(env.config, 2)
    world.reset(seed=2)
    ref = reference_solver()
    prices = np.array([[0.6, 0.8, 1.0], [1.0, 0.9, 0.7]])
    for _ in range(env.n_periods):
        _, _, _, _, info = env.step(env.prices_to_actions(prices))
        outcome = world.step(info["price"])  # the prices the env posted, to the last bit
        grid_kwh = outcome.energy_kwh_per_substep / 0.95  # (2, 3, 15)
        station_mw = grid_kwh.transpose(0, 2, 1).reshape(30, 3) / (60 / 3600) / 1e3
        p, q = rebuilt_loads(station_mw, np.full(30, IEEE_RTS_WINTER_WEEKDAY[17]))
        res = ref.solve(p, q)
        violation = (np.maximum(0.95 - res.vm_pu, 0) + np.maximum(res.vm_pu - 1.05, 0)).sum(axis=1).reshape(2, 15)
        g = info["grid"]
        np.testing.assert_allclose(g["cost_voltage"], violation.mean(axis=1), atol=1e-6)
        np.testing.assert_allclose(g["vm_min_pu"], res.vm_pu.min(axis=1).reshape(2, 15).min(axis=1), atol=1e-6)
        np.testing.assert_allclose(g["station_p_mw"], grid_kwh.sum(axis=2) / 0.25 / 1e3, rtol=1e-12)
        assert (violation > 0).any()  # the evening peak: the aggregation is tested on real violations


def test_periods_longer_than_an_hour_and_episodes_longer_than_a_day():
    """A period's base load is the mean of the hours it spans, wrapping past midnight."""
    env = make_env(
        "GridCharging-v0", 2, base_load_noise_std=0.0, start_hour=23.0, horizon_h=48.0, action_period_s=7200, dt_s=600
    )
    env.reset(seed=0)
    ref = reference_solver()
    for k in range(env.n_periods):
        _, _, _, _, info = env.step(np.zeros((2, 3, 1)))
        hours = [(23 + 2 * k) % 24, (24 + 2 * k) % 24]
        factor = np.mean([IEEE_RTS_WINTER_WEEKDAY[h] for h in hours])
        p, q = rebuilt_loads(info["grid"]["station_p_mw"], np.full(2, factor))
        np.testing.assert_allclose(info["grid"]["vm_min_pu"], ref.solve(p, q).vm_pu.min(axis=1), atol=1e-6)


def test_common_random_numbers_share_the_base_load_noise():
    from evprice.envs.registry import spec

    env = spec("GridCharging-v0").make(make_env("GridCharging-v0", 1).config, num_envs=4, scenarios=2)
    obs = env.reset(seed=1)
    np.testing.assert_array_equal(obs[0], obs[2])
    assert not np.array_equal(obs[0], obs[1])
    for _ in range(10):
        obs, _, _, _, info = env.step(np.zeros((4, 3, 1)))  # same prices: members 0 and 2 are twins
    np.testing.assert_array_equal(info["grid"]["vm_min_pu"][0], info["grid"]["vm_min_pu"][2])
    np.testing.assert_array_equal(obs[1], obs[3])


def test_same_seed_same_trajectory_across_episodes():
    def run(env):
        out = []
        env.reset(seed=11)
        for k in range(300):
            if env.world.done:
                env.reset()
            obs, r, _, _, info = env.step(np.full((2, 3, 1), np.sin(k)))
            out.append((obs, r, info["grid"]["cost"], info["grid"]["vm_min_pu"]))
        return out

    a, b = run(make_env("GridCharging-v0", 2)), run(make_env("GridCharging-v0", 2))
    for x, y in zip(a, b):
        for u, v in zip(x, y):
            np.testing.assert_array_equal(u, v)
    # a new episode from the same seed repeats the first one exactly (no warm start carried over)
    env = make_env("GridCharging-v0", 2)
    first = [env.reset(seed=4)] + [env.step(np.zeros((2, 3, 1)))[0] for _ in range(5)]
    again = [env.reset(seed=4)] + [env.step(np.zeros((2, 3, 1)))[0] for _ in range(5)]
    for u, v in zip(first, again):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(station_buses=[31, 13]), r"station_buses=\[31, 13\] is invalid: expected a list of 3 bus indices in"),
        (dict(station_buses=[31, 13, 0]), r"none of them the substation \(bus 0\)"),
        (dict(station_buses=[31, 13, 33]), r"station_buses\[2\]=33 is invalid: expected an integer in \[0, 32\]"),
        (dict(n_stations=4), r"station_buses=None is invalid with n_stations=4: feeder 'doc2' has default buses"),
        (dict(powerflow_every="hour"), r"powerflow_every='hour' is invalid: expected one of 'period', 'substep'"),
        (dict(grid_observability="all"), r"grid_observability='all' is invalid"),
        (
            dict(charger_power_factor=1.2),
            r"charger_power_factor=1.2 is invalid: expected a finite number in \[0.1, 1\]",
        ),
        (dict(vm_minimum=0.9), r"unknown key 'vm_minimum' for GridCharging-v0"),
        (dict(cost_form="binary"), r"cost_form='binary' is invalid: expected one of 'weighted', 'indicator'"),
    ],
)
def test_bad_coupling_config(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_env("GridCharging-v0", 1, **overrides)


def test_more_stations_on_explicit_buses_and_reactive_draw():
    env = make_env("GridCharging-v0", 2, n_stations=5, station_buses=[31, 13, 19, 24, 17], charger_power_factor=0.9)
    env.reset(seed=0)
    for _ in range(72):
        _, _, _, _, info = env.step(np.full((2, 5, 1), -1.0))
    assert info["grid"]["station_p_mw"].shape == (2, 5) and info["grid"]["converged"].all()


def test_measurements_keep_only_the_power_flows_that_converged():
    from evprice.envs.couplings.grid import _over_converged

    x = np.array([[[1.0, 2.0]], [[3.0, 4.0]]])  # (B = 2, F = 1, 2)
    ok = np.array([[True], [False]])
    for reduce in (np.min, np.max, np.mean):
        np.testing.assert_array_equal(_over_converged(x, ok, reduce), [[1.0, 2.0], [np.nan, np.nan]])
    y = np.array([[5.0, 1.0, 3.0], [2.0, 8.0, 6.0]])  # (B = 2, F = 3)
    ok3 = np.array([[True, False, True], [False, False, False]])
    np.testing.assert_array_equal(_over_converged(y, ok3, np.min), [3.0, np.nan])
    np.testing.assert_array_equal(_over_converged(y, ok3, np.max), [5.0, np.nan])
    np.testing.assert_array_equal(_over_converged(y, ok3, np.mean), [4.0, np.nan])
