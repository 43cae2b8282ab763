"""MarketConfig.sessions: the calibrated joint model and the bootstrap of a user's workbook."""

import numpy as np
import pytest

from evprice.core.config import ConfigError
from evprice.core.rng import spawn_streams
from evprice.data import CALIBRATED, ORDER_COLUMNS, dwell_moments
from evprice.envs import make_env
from evprice.market.draws import STREAMS, sample_period_draws


def _draws(env, periods=40):
    rngs = spawn_streams(0, STREAMS)
    e, d = [], []
    for k in range(periods):
        draws = sample_period_draws(env.params, k % env.n_periods, 64, rngs, env.world.session_sampler)
        real = np.isfinite(draws.arrival_offset_s)
        e.append(draws.energy_kwh[real])
        d.append(draws.dwell_s[real] / 3600.0)
    return np.concatenate(e), np.concatenate(d)


def test_independent_is_the_default_and_draws_unlinked_sessions():
    env = make_env("PublicCharging-v0")
    assert env.config.sessions == "independent" and env.world.session_sampler is None
    e, d = _draws(env)
    assert abs(np.corrcoef(np.log(e), np.log(d))[0, 1]) < 0.05


def test_calibrated_sessions_follow_the_fitted_joint_model():
    env = make_env("PublicCharging-v0", sessions="calibrated")
    mean_h, cv = dwell_moments(CALIBRATED)
    assert env.config.dwell_time_mean_h == pytest.approx(mean_h) and env.config.dwell_time_cv == pytest.approx(cv)
    assert env.config.energy_demand_mean_kwh == pytest.approx(CALIBRATED.energy_mean_kwh)
    e, d = _draws(env)
    n = len(e)
    se = CALIBRATED.energy_cv * CALIBRATED.energy_mean_kwh / np.sqrt(n)
    assert e.mean() == pytest.approx(CALIBRATED.energy_mean_kwh, abs=4 * se)
    # dwell = energy / power with energy and power correlated: long sessions carry more energy
    assert np.corrcoef(np.log(e), np.log(d))[0, 1] > 0.3


def test_a_users_workbook_is_resampled(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("openpyxl")
    orders = {
        "order_time": ["2022-01-01 08:00:00", "2022-01-02 09:00:00"],
        "start_time": ["2022-01-01 08:00:05", "2022-01-02 09:00:05"],
        "end_time": ["2022-01-01 08:30:05", "2022-01-02 10:10:05"],
        "settlement_time": ["2022-01-01 08:30:09", "2022-01-02 10:10:09"],
        "energy_kwh": [15.0, 30.5],
        "settled_amount_cny": [15.0, 25.0],
        "total_fee_cny": [15.0, 30.0],
        "energy_fee_cny": [11.0, 8.0],
        "service_fee_cny": [4.0, 22.0],
        "duration_min": [30, 70],
        "soc_start_pct": [20.0, 30.0],
        "soc_end_pct": [60.0, 90.0],
        "settlement_method": ["实时", "实时"],
        "abnormal_settlement": ["否", "否"],
    }
    path = tmp_path / "EV_data1.xlsx"
    pd.DataFrame({name: orders[field] for name, field in ORDER_COLUMNS.items()}).to_excel(path, index=False)
    env = make_env("CoupledNetwork-v0", sessions=str(path))
    e, d = _draws(env, periods=5)
    pairs = {(round(a, 6), round(b, 6)) for a, b in zip(e, d)}
    assert pairs == {(15.0, 0.5), (30.5, round(70 / 60, 6))}
    assert env.config.energy_demand_mean_kwh == pytest.approx(22.75)
    env.reset(seed=0)
    env.step(np.zeros((1, 3, 1)))  # the scenario runs on them


def test_bad_sessions_source():
    with pytest.raises(ConfigError, match="sessions='nowhere.xlsx' is invalid: expected 'independent', 'calibrated'"):
        make_env("PublicCharging-v0", sessions="nowhere.xlsx")
