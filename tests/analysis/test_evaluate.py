import numpy as np
import pytest
from scipy import stats

from evprice.analysis import evaluate, run_episodes
from evprice.analysis.rollouts import ci95


def test_ci95_by_hand():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    half = stats.t.ppf(0.975, 3) * values.std(ddof=1) / 2
    assert ci95(values, total=False) == pytest.approx([2.5 - half, 2.5 + half])
    assert ci95(values, total=True) == pytest.approx([4 * (2.5 - half), 4 * (2.5 + half)])
    assert ci95(np.array([1.0]), total=False) is None


def test_intervals_of_counts_respect_their_support():
    """Issue 21, friction 6: a count's interval never goes below 0 (it was blocked [-2.18, 4.18])."""
    from evprice.analysis.stats import mean_ci

    values = np.array([0.0, 0.0, 0.0, 8.0])  # mean 2, t half-width 6.37
    half = stats.t.ppf(0.975, 3) * values.std(ddof=1) / 2
    assert 2.0 - half < 0
    assert mean_ci(values)[1] == pytest.approx([2.0 - half, 2.0 + half])  # no support given: the plain t interval
    assert mean_ci(values, low=0.0)[1] == pytest.approx([0.0, 2.0 + half])
    assert mean_ci(values, low=0.0, high=5.0)[1] == pytest.approx([0.0, 5.0])
    assert ci95(values, total=False, key="blocked") == pytest.approx([0.0, 2.0 + half])
    assert ci95(values - 5.0, total=False, key="profit") == pytest.approx([-3.0 - half, -3.0 + half])  # may be < 0


def test_evaluate_shape_and_intervals():
    s = evaluate("PublicCharging-v0", "fixed", episodes=6, seed=2, price=1.3)
    runs, _ = run_episodes("PublicCharging-v0", "fixed", episodes=6, seed=2, policy_options={"price": 1.3})
    for j, st in enumerate(s["stations"]):
        assert set(st["ci95"]) == {
            "mean_price",
            "profit",
            "revenue",
            "energy_kwh",
            "admitted",
            "blocked",
            "utilization",
        }
        lo, hi = st["ci95"]["profit"]
        assert lo < st["profit"] < hi
        assert st["profit"] == pytest.approx(runs.station["profit"][:, j].sum())
    m = s["market"]
    assert m["ci95"]["arrivals"][0] < m["arrivals"] < m["ci95"]["arrivals"][1]
    assert "delta" not in s  # a sampled market with congestion: the static theory is only an approximation


def test_expected_markets_report_delta_and_float_counts():
    """At Nash prices an expected-demand market earns the Nash profit: Delta is 0 exactly when the
    wholesale price has no noise (the theory's cost is the arrival-weighted mean of the profile),
    and 0 in expectation with noise."""
    base = {"demand": "expected", "congestion_sensitivity": 0}
    exact = evaluate("PublicCharging-v0", "nash", episodes=2, overrides={**base, "elec_price_noise_std_per_kwh": 0})
    assert exact["delta"]["total"] == pytest.approx(0.0, abs=1e-9)
    assert isinstance(exact["market"]["admitted"], float)
    noisy = evaluate("PublicCharging-v0", "nash", episodes=40, overrides=base)
    lo, hi = noisy["delta"]["ci95"]["total"]
    assert lo < 0.0 < hi


def test_station_delta_is_undefined_when_the_joint_optimum_sacrifices_the_station():
    # a = (2, 2.5): jointly, station 1 earns 0.1131 per period, less than its Nash 0.1223
    s = evaluate("LogitBertrand-v0", "fixed", episodes=2, overrides={"a": [2.0, 2.5]})
    assert s["delta"]["station_1"] is None and s["delta"]["ci95"]["station_1"] is None
    assert s["delta"]["station_2"] is not None and s["delta"]["total"] is not None


def test_no_delta_for_a_sampled_market_with_heavy_blocking():
    overrides = {"demand": "sampled", "arrivals_per_period": 20, "chargers_per_station": 1}
    assert "delta" not in evaluate("LogitBertrand-v0", "nash", episodes=2, overrides=overrides)


def test_markets_without_a_benchmark_evaluate_with_delta_undefined():
    """Issue 19: one station without an outside option raised in evaluate (rollout ran it), and a market
    nobody buys from divided by zero."""
    r = evaluate("PublicCharging-v0", "fixed", episodes=2, overrides={"n_stations": 1, "outside_option_utility": None})
    assert "delta" not in r and r["market"]["arrivals"] > 0
    r = evaluate("LogitBertrand-v0", "nash", episodes=2, overrides={"a0": 1000.0})  # the outside option always wins
    assert r["market"]["admitted"] == 0 and r["delta"]["total"] is None and r["delta"]["ci95"]["total"] is None
