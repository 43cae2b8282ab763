"""Learning curves: bands over seeds and the plateau test, on curves worked out by hand."""

import numpy as np
import pytest

from evprice.analysis.curves import band, plateau_note, plateau_step, read_curve


def test_plateau_is_the_first_evaluation_after_which_the_curve_stays_in_its_band():
    steps = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0]
    # Delta's scale is 1 (Nash to joint): the band is the tail's mean, 1.0, +- 0.05
    curve = [0.0, 0.5, 0.9, 0.97, 1.02, 0.99, 0.99]
    assert plateau_step(steps, curve, scale=1.0) == 40.0
    # a dip back out of the band moves the plateau after it
    assert plateau_step(steps, [0.0, 0.5, 0.97, 0.8, 1.02, 0.99, 0.99], scale=1.0) == 50.0
    # still rising at the end: no plateau
    assert plateau_step(steps, [0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0], scale=1.0) is None
    # too few evaluations to tell
    assert plateau_step(steps[:2], [0.0, 1.0], scale=1.0) is None
    # prices judged on a Nash-to-joint distance of 0.25 currency/kWh: the band is +- 0.0125
    prices = [1.30, 1.40, 1.45, 1.46, 1.455, 1.46, 1.462]
    assert plateau_step(steps, prices, scale=0.25) == 30.0
    assert plateau_step(steps, prices, scale=0.1) == 40.0  # a finer scale, a later plateau
    assert plateau_step(steps, prices, scale=0.05) is None  # +- 0.0025: 1.455 lies outside


def test_band_is_the_mean_and_t_interval_over_seeds(tmp_path):
    curves = [
        {"env_steps": [1.0, 2.0, 3.0], "metric": "eval_delta", "values": [0.1, 0.5, 0.6]},
        {"env_steps": [1.0, 2.0, 3.0], "metric": "eval_delta", "values": [0.3, 0.7, 0.8]},
    ]
    b = band(curves, scale=1.0)
    assert b["mean"] == pytest.approx([0.2, 0.6, 0.7]) and b["scale"] == 1.0
    assert band(curves)["scale"] == pytest.approx(0.5)  # no benchmark: the mean curve's range
    half = 12.706204736174707 * np.std([0.1, 0.3], ddof=1) / np.sqrt(2)  # t(0.975, 1)
    assert b["low"][0] == pytest.approx(0.2 - half) and b["high"][0] == pytest.approx(0.2 + half)
    with pytest.raises(ValueError, match="different env-steps"):
        band([curves[0], {**curves[1], "env_steps": [1.0, 2.0, 4.0]}])
    assert "had not reached a plateau after 3 env-steps" in plateau_note("arm", {**b, "plateau_step": None}, 3)
    note = plateau_note("arm", {**b, "plateau_step": 2.0}, 3)
    assert "reached its plateau at 2 of 3 env-steps (every later evaluation within 0.05 of" in note


def test_read_curve_takes_the_evaluation_rows_of_metrics_csv(tmp_path):
    (tmp_path / "metrics.csv").write_text(
        "update,env_steps,eval_return,eval_price,eval_delta\n1,100,,,\n2,200,3.0,1.5,\n3,300,4.0,1.25,\n"
    )
    assert read_curve(tmp_path) == {"env_steps": [200.0, 300.0], "metric": "eval_price", "values": [1.5, 1.25]}


def test_welch_difference_interval_by_hand():
    from evprice.analysis.stats import diff_ci

    a, b = [1.0, 2.0, 3.0], [0.0, 0.5]
    # variances of the means 1/3 and 0.125/2; Welch dof = (0.3958)^2 / ((1/3)^2/2 + 0.0625^2/1)
    va, vb = 1.0 / 3.0, 0.125 / 2.0
    dof = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 1)
    from scipy import stats

    half = stats.t.ppf(0.975, dof) * np.sqrt(va + vb)
    d, ci = diff_ci(a, b)
    assert d == pytest.approx(1.75) and ci == pytest.approx([1.75 - half, 1.75 + half])
    assert diff_ci([1.0], [0.0, 2.0]) == (0.0, None)
