"""The worked example: an on-site battery that shaves each station's grid draw."""

import pickle
import warnings
from functools import partial

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

import evprice
from evprice.envs import make_env
from evprice.envs.couplings.battery import Battery, shave


def test_shave_by_hand():
    # one station, threshold 2 kWh a step, 2 kWh a step at most, 3 kWh stored of 3, half of a charge kept
    grid, soc = shave(np.array([[[5.0, 1.0, 4.0, 0.5]]]), np.array([[3.0]]), 3.0, 2.0, 2.0, 0.5)
    # step 1: 3 above the threshold, 2 from the battery (its power): grid 3, soc 1
    # step 2: 1 below: charge 1 (room 2 / 0.5 = 4): grid 2, soc 1.5
    # step 3: 2 above, 1.5 left: grid 2.5, soc 0
    # step 4: 1.5 below: charge 1.5: grid 2, soc 0.75
    np.testing.assert_allclose(grid, [[[3.0, 2.0, 2.5, 2.0]]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(soc, [[0.75]], rtol=0, atol=1e-15)


def test_shave_never_overfills_or_empties_below_zero():
    rng = np.random.default_rng(0)
    draw = rng.uniform(0, 3, (50, 4, 30))
    grid, soc = shave(draw, np.full((50, 4), 2.0), 2.0, 0.7, 1.2, 0.9)
    assert (soc >= 0).all() and (soc <= 2.0).all() and (grid >= 0).all()


def battery(**kw):
    return partial(Battery, **{"capacity_kwh": 150.0, "power_kw": 120.0, "shave_above_kw": 100.0, **kw})


def rollout(env, periods, seed=4):
    env.reset(seed=seed)
    rng = np.random.default_rng(1)
    return [env.step(rng.uniform(-1, 1, (env.num_envs, env.n_agents, 1))) for _ in range(periods)]


def test_an_empty_battery_leaves_the_grid_scenario_as_it_is():
    plain = rollout(make_env("GridCharging-v0", 3), 40)
    with_battery = rollout(make_env("GridCharging-v0", 3, couplings=(battery(capacity_kwh=0.0, power_kw=0.0),)), 40)
    for (o1, r1, _, _, i1), (o2, r2, _, _, i2) in zip(plain, with_battery):
        assert np.array_equal(r1, r2) and np.array_equal(o1, o2[..., : o1.shape[2]])
        for key, value in i1["grid"].items():
            assert np.array_equal(value, i2["grid"][key], equal_nan=True), key
        assert not i2["battery"]["shaved_kwh"].any()


def test_the_battery_shaves_the_peak_and_conserves_energy():
    env = make_env("GridCharging-v0", 4, couplings=(battery(efficiency=1.0),))
    plain = make_env("GridCharging-v0", 4)
    steps, base = rollout(env, env.n_periods), rollout(plain, plain.n_periods)
    period_h = env.config.action_period_s / 3600
    delivered = sum(i["energy_kwh"] for *_, i in base) / env.config.charging_efficiency  # (B, N) without battery
    drawn = sum(i["grid"]["station_p_mw"] for *_, i in steps) * 1e3 * period_h  # (B, N) from the feeder
    soc_end = steps[-1][4]["battery"]["soc_kwh"]
    # the same market (the battery changes nothing the drivers see): what the feeder gave less, the battery gave
    np.testing.assert_allclose(delivered - drawn, 150.0 - soc_end, rtol=1e-9, atol=1e-9)
    peak = lambda s: max(i["grid"]["station_p_mw"].max() for *_, i in s)  # noqa: E731
    assert peak(steps) < peak(base)
    assert sum(i["battery"]["shaved_kwh"].sum() for *_, i in steps) > 0


def test_the_battery_is_in_the_observation_snapshot_and_every_view():
    env = make_env("GridCharging-v0", 2, couplings=(battery(),))
    names = env.layout.state_names
    assert [n for n in names if n[0].endswith("StationBattery")] == [
        (f"station_{i}.StationBattery", "soc") for i in (1, 2, 3)
    ]
    own = env.observation_names("station_2")
    assert ("station_2.StationBattery", "soc") in own and ("station_1.StationBattery", "soc") not in own
    rollout(env, 10)
    snap = pickle.loads(pickle.dumps(env.snapshot()))
    after = [env.step(np.zeros((2, 3, 1))) for _ in range(5)]
    env.restore(snap)
    again = [env.step(np.zeros((2, 3, 1))) for _ in range(5)]
    for (o1, r1, *_), (o2, r2, *_) in zip(after, again):
        assert np.array_equal(o1, o2) and np.array_equal(r1, r2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parallel_api_test(evprice.make("GridCharging-v0", couplings=(battery(),)), num_cycles=30)


@pytest.mark.parametrize(
    "kw, match",
    [({"capacity_kwh": -1.0}, "capacity_kwh"), ({"power_kw": np.nan}, "power_kw"), ({"efficiency": 1.5}, "efficiency")],
)
def test_bad_battery_parameters_are_named(kw, match):
    with pytest.raises(ValueError, match=match):
        make_env("GridCharging-v0", couplings=(battery(**kw),))
