import numpy as np
import pytest

import evprice.analysis.rollouts as rollouts
from evprice.analysis import rollout
from evprice.envs import make_env


def test_summary_shape_and_conservation():
    s = rollout("PublicCharging-v0", "random", episodes=3, seed=1)
    assert set(s) >= {"env", "episodes", "seed", "stations", "market"}
    assert [st["id"] for st in s["stations"]] == ["station_1", "station_2"]
    for st in s["stations"]:
        assert set(st) == {"id", "mean_price", "profit", "revenue", "energy_kwh", "admitted", "blocked", "utilization"}
        assert 0.6 <= st["mean_price"] <= 2.0 and 0.0 <= st["utilization"] <= 1.0
    m = s["market"]
    assert set(m) == {"arrivals", "admitted", "blocked", "gave_up", "profit", "revenue", "energy_kwh"} | {
        "consumer_surplus",
        "social_welfare",
    }
    assert m["consumer_surplus"] > 0  # every admitted driver gains over its outside option
    assert m["arrivals"] == m["admitted"] + m["blocked"] + m["gave_up"] > 0
    assert m["admitted"] == sum(st["admitted"] for st in s["stations"])
    for key in ("profit", "revenue", "energy_kwh"):
        assert m[key] == pytest.approx(sum(st[key] for st in s["stations"]))
    assert all(isinstance(m[k], int) for k in ("arrivals", "admitted", "blocked", "gave_up"))


def test_fixed_price_summary():
    s = rollout("PublicCharging-v0", "fixed", episodes=2, seed=0, price=1.4, overrides={"n_stations": 3})
    for st in s["stations"]:
        assert st["mean_price"] == pytest.approx(1.4)
        assert st["revenue"] == pytest.approx(1.4 * st["energy_kwh"])


def test_reproducible():
    a = rollout("PublicCharging-v0", "random", episodes=5, seed=3)
    assert rollout("PublicCharging-v0", "random", episodes=5, seed=3) == a
    assert rollout("PublicCharging-v0", "random", episodes=5, seed=4) != a


def test_totals_cover_every_episode_when_split_into_batches(monkeypatch):
    monkeypatch.setattr(rollouts, "MAX_BATCH", 2)
    got = rollout("PublicCharging-v0", "fixed", episodes=5, seed=3, overrides={"horizon_h": 2.0})
    # replay by hand: batches of 2, 2 and 2 members, of which the last uses only one
    env = make_env("PublicCharging-v0", 2, horizon_h=2.0)
    arrivals, energy = 0, np.zeros(2)
    for i, used in enumerate((2, 2, 1)):
        env.reset(3 if i == 0 else None)
        for _ in range(env.n_periods):
            _, _, _, _, info = env.step(np.zeros((2, 2, 1)))
            arrivals += int(info["market"]["arrivals"][:used].sum())
            energy += info["energy_kwh"][:used].sum(axis=0)
    assert got["market"]["arrivals"] == arrivals > 0
    assert [s["energy_kwh"] for s in got["stations"]] == pytest.approx(energy.tolist())


def test_progress_callback_and_errors():
    calls = []
    rollout(
        "PublicCharging-v0",
        "fixed",
        episodes=1,
        overrides={"horizon_h": 1.0},
        on_period=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with pytest.raises(ValueError, match="episodes=0"):
        rollout(episodes=0)


def test_welfare_totals_are_the_periods_sums_and_absent_without_an_outside_option():
    s = rollout("PublicCharging-v0", "fixed", episodes=3, seed=2)
    env = make_env("PublicCharging-v0", 3)
    env.reset(seed=2)
    surplus = welfare = 0.0
    for _ in range(env.n_periods):
        info = env.step(np.zeros((3, 2, 1)))[4]  # action 0: the middle of the bounds, as "fixed"
        surplus += info["market"]["consumer_surplus"].sum()
        welfare += info["market"]["social_welfare"].sum()
    assert s["market"]["consumer_surplus"] == pytest.approx(surplus, rel=1e-12)
    assert s["market"]["social_welfare"] == pytest.approx(welfare, rel=1e-12)
    s = rollout("PublicCharging-v0", "fixed", episodes=2, seed=2, overrides={"outside_option_utility": None})
    assert "consumer_surplus" not in s["market"] and "social_welfare" not in s["market"]


def test_rollouts_count_the_periods_whose_power_flow_did_not_converge():
    """Issue 19: rollout / evaluate report non-converged power flows."""
    ok = rollout("GridCharging-v0", "fixed", episodes=1, seed=0, overrides={"horizon_h": 1.0})
    assert ok["costs"]["nonconverged_periods"] == 0
    # six times the base load: no power flow converges (tests/envs/test_grid_charging.py)
    failed = rollout(
        "GridCharging-v0", "fixed", episodes=2, seed=0, overrides={"horizon_h": 1.0, "base_load_scale": 6.0}
    )
    assert failed["costs"]["nonconverged_periods"] == 2 * 4 == failed["costs"]["violating_periods"]
