"""CoupledNetwork-v0 / SiouxFalls-v0: routed drivers, conservation, grid coupling, rewards."""

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.envs import make_env
from evprice.grid.feeders import doc2
from evprice.grid.powerflow import FastRadialSolver
from evprice.grid.profiles import IEEE_RTS_WINTER_WEEKDAY
from evprice.transport import load_network, shortest_times_h
from evprice.transport.congestion import arc_times_h, doc2_congestion_table

PRICES = np.array([[1.15, 1.45, 1.35], [1.4, 1.3, 1.2]])


def test_defaults_are_document_2s():
    env = make_env("CoupledNetwork-v0")
    cfg = env.config
    assert env.n_periods == 12 and cfg.action_period_s == 3600
    assert cfg.price_min == (1.1, 1.3, 1.2) and cfg.price_max == (1.4, 1.5, 1.4)
    assert cfg.station_nodes == (1, 2, 3) and env.coupling("grid").station_buses == (31, 13, 19)
    assert cfg.feeder == "doc2" and cfg.travel_time_weight == 4.0
    assert len(cfg.origin_weights) == 13


@pytest.mark.parametrize("env_id", ["CoupledNetwork-v0", "SiouxFalls-v0"])
def test_requests_are_conserved_and_station_power_reaches_its_bus(env_id):
    env = make_env(env_id, 2, base_load_noise_std=0.0)
    env.reset(seed=4)
    f, ref = doc2(), FastRadialSolver(doc2())
    actions = env.prices_to_actions(PRICES)
    total = 0
    for k in range(env.n_periods):
        _, _, _, _, info = env.step(actions)
        m = info["market"]
        np.testing.assert_array_equal(m["arrivals"], m["admitted"] + m["blocked"] + m["gave_up"])
        np.testing.assert_array_equal(m["admitted"], info["admitted"].sum(axis=1))
        total += m["arrivals"].sum()
        # the station's grid draw is its delivered energy / efficiency over the hour, added at its bus
        station_mw = info["energy_kwh"] / 0.95 / 1.0 / 1e3
        g = info["grid"]
        np.testing.assert_allclose(g["station_p_mw"], station_mw, rtol=1e-12)
        hour = 8 + k
        p = IEEE_RTS_WINTER_WEEKDAY[hour] * np.tile(f.load_p_mw, (2, 1))
        q = IEEE_RTS_WINTER_WEEKDAY[hour] * np.tile(f.load_q_mvar, (2, 1))
        for i, bus in enumerate((31, 13, 19)):
            p[:, bus] += station_mw[:, i]
        res = ref.solve(p, q)
        np.testing.assert_allclose(g["vm_min_pu"], res.vm_pu.min(axis=1), atol=1e-7)
        violation = (np.maximum(0.95 - res.vm_pu, 0) + np.maximum(res.vm_pu - 1.05, 0)).sum(axis=1)
        np.testing.assert_allclose(g["cost_voltage"], violation, atol=1e-7)
        overload = np.maximum(res.line_loading[:, [9, 17, 27]] - 0.9, 0).sum(axis=1)
        np.testing.assert_allclose(g["cost_line"], overload, atol=1e-7)
        np.testing.assert_allclose(info["cost"][:, 0], g["cost_voltage"] + g["cost_line"] + 0.002 * g["cost_carbon"])
    assert total > 100


def test_travel_times_are_the_shortest_paths_of_each_period_and_cached():
    env = make_env("CoupledNetwork-v0")
    env.reset(seed=0)
    net = load_network("doc2")
    table = doc2_congestion_table()
    for k in range(3):
        expected = shortest_times_h(net, arc_times_h(net, table[k]), np.arange(13), [0, 1, 2])
        np.testing.assert_allclose(env.coupling("roads").travel_time_h(env.period), expected, rtol=1e-12)
        env.step(np.zeros((1, 3, 1)))
    # constant congestion: one solve for the free-flow check and one for the first period, then none
    env = make_env("CoupledNetwork-v0", road_saturation_by_hour=((0.5, 0.5, 0.5),))
    env.reset(seed=0)
    for _ in range(env.n_periods):
        env.step(np.zeros((1, 3, 1)))
    assert env.coupling("roads").travel_times.n_solves == 2


def test_a_cheaper_station_draws_drivers_from_the_others():
    env = make_env("CoupledNetwork-v0", 64)
    admitted = []
    for prices in ([1.4, 1.5, 1.2], [1.1, 1.5, 1.4]):
        env.reset(seed=1)
        actions = env.prices_to_actions(np.tile(prices, (64, 1)))
        n = np.zeros(3)
        for _ in range(env.n_periods):
            n += env.step(actions)[4]["admitted"].sum(axis=0)
        admitted.append(n)
    assert admitted[1][0] > admitted[0][0] * 1.05  # station 1 cheap: more drivers
    assert admitted[1][2] < admitted[0][2] * 0.95  # station 3 dear: fewer


def test_deterministic_drivers_from_one_node_all_take_the_cheapest_station():
    # every request starts at node 13; no noise, no outside option, plenty of chargers: each
    # driver takes the station of least price x 15 kWh + 20 x 4 x travel time (hand rule)
    weights = (0.0,) * 12 + (1.0,)
    env = make_env(
        "CoupledNetwork-v0",
        origin_weights=weights,
        noise_scale=0.0,
        energy_demand_cv=0.0,
        outside_option_price_per_kwh=None,
        chargers_per_station=200,
    )
    env.reset(seed=2)
    net = load_network("doc2")
    table = doc2_congestion_table()
    prices = np.array([1.1, 1.5, 1.4])
    for k in range(4):
        travel = shortest_times_h(net, arc_times_h(net, table[k]), [12], [0, 1, 2])[0]
        best = np.argmin(prices * 15.0 + 20.0 * 4.0 * travel)
        info = env.step(env.prices_to_actions(prices[None]))[4]
        assert info["admitted"][0, best] == info["market"]["arrivals"][0]


def test_document_2s_welfare_is_revenue_minus_tiered_supply_cost():
    for threshold, unit in ((0.0, 0.5), (1e6, 0.3)):
        env = make_env("CoupledNetwork-v0", 2, objective="revenue_minus_supply_cost", supply_threshold_kw=threshold)
        env.reset(seed=5)
        scale = env.params.reward_scale_per_period.sum()
        for _ in range(3):
            _, reward, _, _, info = env.step(env.prices_to_actions(PRICES))
            supply = unit * info["energy_kwh"].sum(axis=1) / 0.95
            np.testing.assert_allclose(info["network"]["supply_cost"], supply, rtol=1e-12)
            welfare = info["revenue"].sum(axis=1) - supply
            np.testing.assert_allclose(info["network"]["revenue_minus_supply_cost"], welfare, rtol=1e-12)
            np.testing.assert_allclose(reward, np.repeat((welfare / scale)[:, None], 3, axis=1), rtol=1e-12)


def test_profit_objective_uses_the_purchase_price():
    env = make_env("CoupledNetwork-v0", reward="individual")
    env.reset(seed=5)
    for _ in range(3):
        _, reward, _, _, info = env.step(env.prices_to_actions(PRICES[:1]))
        profit = info["revenue"] - 0.7 * info["energy_kwh"] / 0.95
        np.testing.assert_allclose(info["profit"], profit, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(reward, profit / env.params.reward_scale_per_period, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"station_nodes": (1, 2, 99)}, r"station_nodes=\(1, 2, 99\) is invalid: expected 3 node labels in 1..13"),
        ({"station_nodes": (1, 2)}, "station_nodes"),
        ({"road_saturation_by_hour": ((0.5, 0.5),)}, "road_saturation_by_hour"),
        ({"road_saturation_by_hour": ((0.5, 0.5, 0.5),) * 12}, r"road_saturation_by_hour=.*expected 1 or 24 rows"),
        ({"road_saturation_by_hour": ((0.5, 0.5, -1.0),)}, r"road_saturation_by_hour\[0\]\[2\]=-1.0 is invalid"),
        ({"road_saturation": ((0.5, 0.5, 0.5),)}, "did you mean road_saturation_by_hour"),
        ({"objective": "social_welfare", "reward": "individual"}, "reward='individual' is invalid with objective"),
        ({"congestion_sensitivity": 1.0}, "congestion_sensitivity=1.0 is invalid with driver_cost='generalised'"),
        ({"when_full": "reroute", "waiting_spaces": 0}, "when_full='reroute' is invalid with driver_cost="),
        ({"origin_weights": (1.0, 2.0)}, "origin_weights.*13 weights"),
        ({"objective": "welfare"}, "objective='welfare' is invalid"),
        ({"road_network": "atlantis"}, "atlantis"),
    ],
)
def test_bad_config(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_env("CoupledNetwork-v0", **overrides)


def test_sioux_falls_routes_on_24_nodes_with_bpr_by_hour():
    env = make_env("SiouxFalls-v0")
    assert env.coupling("roads").network.n_nodes == 24 and env.config.station_nodes == (10, 16, 20)
    env.reset(seed=0)
    t8 = env.coupling("roads").travel_time_h(env.period).copy()
    assert t8.shape == (24, 3)
    assert env.coupling("roads").congestion(0) == env.config.road_volume_capacity_by_hour[8]
    # BPR: 1 + 0.15 x^4 on every link, so every time scales by the same factor
    x8, x12 = env.config.road_volume_capacity_by_hour[8], env.config.road_volume_capacity_by_hour[12]
    for _ in range(4):
        env.step(np.zeros((1, 3, 1)))
    t12 = env.coupling("roads").travel_time_h(env.period)
    np.testing.assert_allclose(t12, t8 * (1 + 0.15 * x12**4) / (1 + 0.15 * x8**4), rtol=1e-12)


def test_static_logit_theory_refuses_generalised_drivers():
    from evprice.market.theory import logit_market

    with pytest.raises(ValueError, match="no Nash / joint / Stackelberg benchmark here"):
        logit_market(make_env("CoupledNetwork-v0").params)


def test_stations_observe_their_queue():
    env = make_env("CoupledNetwork-v0", 2, arrivals_per_station_per_day=400)
    env.reset(seed=0)
    names = [f"{a}.{f}" for a, f in env.layout.state_names]
    col = names.index("station_1.ChargingStationStatus.queue")
    for _ in range(4):
        env.step(np.zeros((2, 3, 1)))
    state = env.world.state
    t = 4 * 3600.0
    present = (state.slot_depart_s[:, 0] > t).sum(axis=1) - env.params.slot_padding[0].sum()
    np.testing.assert_array_equal(env.global_state()[:, col], np.maximum(present - 8, 0))
    assert env.global_state()[:, col].max() > 0  # a busy afternoon: someone waits
    assert ("station_1.ChargingStationStatus", "queue") in env.layout.observation_names("station_1")


def test_evaluate_runs_on_the_coupled_market_without_a_delta():
    from evprice.analysis.rollouts import evaluate

    out = evaluate("CoupledNetwork-v0", "fixed", episodes=2)
    assert "delta" not in out and out["costs"]["total"] > 0


def test_best_fixed_prices_search_the_coupled_market_itself():
    from evprice.policies.baselines import make_policy

    env = make_env("CoupledNetwork-v0", 2)
    copy = env.replicate(4, scenarios=2)
    assert [c.name for c in copy.couplings] == ["roads", "grid", "tariff"] and copy.num_envs == 4
    policy = make_policy("best_fixed", env, seed=0)
    assert np.all(policy.price_per_kwh >= env.params.price_min) and np.all(policy.price_per_kwh <= env.params.price_max)


def test_peak_variant_is_coupled_network_with_hubs_on_a_loaded_feeder():
    peak, base = make_env("CoupledNetworkPeak-v0").config, make_env("CoupledNetwork-v0").config
    changed = {k for k in peak.to_dict() if peak.to_dict()[k] != base.to_dict()[k]}
    assert changed == {
        "chargers_per_station",
        "arrivals_per_station_per_day",
        "noise_scale",
        "outside_option_price_per_kwh",
        "base_load_scale",
        "carbon_cap_g_per_kwh",
        "cost_form",
    }
    # without the hubs the feeder stays in band at every hour of the episode, even with the
    # base load at the top of its noise (3 std = +6%)
    f, solver = doc2(), FastRadialSolver(doc2())
    factor = peak.base_load_scale * 1.06 * np.array(IEEE_RTS_WINTER_WEEKDAY[8:20])[:, None]
    res = solver.solve(factor * f.load_p_mw, factor * f.load_q_mvar)
    assert res.vm_pu.min() >= 0.95


def test_peak_variant_costs_one_per_violating_period_and_prices_decide_how_many():
    env = make_env("CoupledNetworkPeak-v0", 16, base_load_noise_std=0.0)
    f, ref = doc2(), FastRadialSolver(doc2())
    violating = []
    for prices in (env.params.price_min, env.params.price_max):
        env.reset(seed=2)  # the same demand for both price vectors
        count = 0.0
        for k in range(env.n_periods):
            *_, info = env.step(env.prices_to_actions(np.tile(prices, (16, 1))))
            hour = 8 + k
            p = 0.74 * IEEE_RTS_WINTER_WEEKDAY[hour] * np.tile(f.load_p_mw, (16, 1))
            q = 0.74 * IEEE_RTS_WINTER_WEEKDAY[hour] * np.tile(f.load_q_mvar, (16, 1))
            for i, bus in enumerate((31, 13, 19)):
                p[:, bus] += info["grid"]["station_p_mw"][:, i]
            res = ref.solve(p, q)
            out = (res.vm_pu < 0.95 - 1e-9).any(axis=1) | (res.vm_pu > 1.05).any(axis=1)
            out |= (res.line_loading[:, [9, 17, 27]] > 0.9).any(axis=1)
            np.testing.assert_array_equal(info["cost"][:, 0], out.astype(float))
            count += out.sum()
        violating.append(count)
    assert violating[0] > 2 * violating[1] > 0  # cheap charging leaves the band far more often


@pytest.mark.parametrize("period_s", [900, 1800, 3600])
def test_road_congestion_follows_the_clock_at_every_pricing_period(period_s):
    env = make_env("CoupledNetwork-v0", action_period_s=period_s)
    table = doc2_congestion_table()  # document 2's steps 1-12 are the hours 08:00-20:00
    per_hour = 3600 // period_s
    for k in range(env.n_periods):
        np.testing.assert_array_equal(env.coupling("roads").congestion(k), table[k // per_hour])
    # the most saturated urban roads are at 10:00-11:00 (step 3) whatever the period length
    urban = [env.coupling("roads").congestion(k)[0] for k in range(env.n_periods)]
    peak_hours = {8 + k // per_hour for k in range(env.n_periods) if urban[k] == max(urban)}
    assert peak_hours == {10}
    env.reset(seed=0)
    net = load_network("doc2")
    for k in range(env.n_periods):
        if k % per_hour == 0:
            expected = shortest_times_h(net, arc_times_h(net, table[k // per_hour]), np.arange(13), [0, 1, 2])
            np.testing.assert_allclose(env.coupling("roads").travel_time_h(env.period), expected, rtol=1e-12)
        env.step(np.zeros((1, 3, 1)))


def test_outside_document_2s_hours_roads_are_at_its_least_saturated_level():
    from evprice.transport import doc2_saturation_by_hour

    by_hour = doc2_saturation_by_hour()
    table = doc2_congestion_table()
    np.testing.assert_array_equal(by_hour[8:20], table)
    for hour in (*range(8), *range(20, 24)):
        np.testing.assert_array_equal(by_hour[hour], [0.38, 0.4, 0.465])  # the columns' minima, read off the table
    env = make_env("CoupledNetwork-v0", start_hour=18.0, horizon_h=4.0)
    assert [env.coupling("roads").hour_of_day(k) for k in range(4)] == [18, 19, 20, 21]
    np.testing.assert_array_equal(env.coupling("roads").congestion(2), [0.38, 0.4, 0.465])


def test_sioux_falls_congestion_is_by_hour_at_every_period():
    env = make_env("SiouxFalls-v0", action_period_s=900)
    vc = env.config.road_volume_capacity_by_hour
    assert [env.coupling("roads").congestion(k) for k in range(8)] == [vc[8]] * 4 + [vc[9]] * 4


def test_switching_the_driver_model_drops_the_scenarios_defaults_for_the_other_model():
    env = make_env("CoupledNetwork-v0", driver_cost="utility")
    cfg = env.config
    assert cfg.value_of_time_per_h == 30.0 and cfg.outside_option_price_per_kwh is None  # the market's defaults
    assert cfg.when_full == "queue" and cfg.price_sensitivity == 4.0  # the scenario's other defaults stay
    with pytest.raises(ConfigError, match="value_of_time_per_h=5.0 is invalid with driver_cost='utility'"):
        make_env("CoupledNetwork-v0", driver_cost="utility", value_of_time_per_h=5.0)  # set by the user
