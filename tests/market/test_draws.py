import numpy as np
import pytest

from evprice.core.rng import spawn_streams
from evprice.market.config import MarketConfig
from evprice.market.draws import STREAMS, positive_draws, sample_elec_price, sample_period_draws
from evprice.market.params import MarketParams


@pytest.mark.parametrize("distribution", ["gamma", "lognormal"])
@pytest.mark.parametrize("cv", [0.0, 0.5, 1.0, 1.5])
def test_session_draws_have_the_configured_moments(distribution, cv):
    x = positive_draws(np.random.default_rng(1), distribution, 22.0, cv, (1_000_000,))
    assert x.mean() == pytest.approx(22.0, rel=0.01)
    assert x.std() / x.mean() == pytest.approx(cv, rel=0.05, abs=1e-12)
    assert (x > 0).all()


def test_lognormal_and_gamma_differ_in_shape():
    rng = np.random.default_rng(2)
    g = positive_draws(rng, "gamma", 1.0, 1.0, (200_000,))
    ln = positive_draws(rng, "lognormal", 1.0, 1.0, (200_000,))
    # exponential: median ln 2; lognormal with cv 1: median exp(-ln(2) / 2) = 1 / sqrt(2)
    assert np.median(g) == pytest.approx(np.log(2), rel=0.02)
    assert np.median(ln) == pytest.approx(1 / np.sqrt(2), rel=0.02)


def test_elec_price_stays_in_bounds_and_follows_the_profile():
    cfg = MarketConfig(elec_price_noise_std_per_kwh=0.05, horizon_h=48.0)
    params = MarketParams.from_config(cfg)
    series = sample_elec_price(params, 2000, np.random.default_rng(0))
    lo, hi = cfg.elec_price_bounds_per_kwh()
    assert series.shape == (2000, params.n_hours)
    assert series.min() >= lo and series.max() <= hi
    profile = cfg.elec_price_profile_per_kwh()
    np.testing.assert_allclose(series.mean(axis=0)[:24], profile, atol=0.005)


def test_arrival_counts_have_the_hourly_means():
    cfg = MarketConfig(arrival_rate_per_h=[float(h) for h in range(24)], dt_s=300, action_period_s=3600)
    params = MarketParams.from_config(cfg)
    rngs = spawn_streams(0, STREAMS)
    for hour in (0, 5, 23):
        d = sample_period_draws(params, hour, 20_000, rngs)
        count = np.isfinite(d.arrival_offset_s).sum(axis=1)
        assert count.mean() == pytest.approx(hour, abs=4 * np.sqrt(max(hour, 1) / 20_000))
        assert count.var() == pytest.approx(hour, abs=0.05 * max(hour, 1))  # Poisson: variance = mean


def test_arrival_times_are_uniform_and_sorted_within_the_period():
    cfg = MarketConfig(arrival_rate_per_h=30.0, dt_s=300, action_period_s=900)
    params = MarketParams.from_config(cfg)
    d = sample_period_draws(params, 0, 20_000, spawn_streams(1, STREAMS))
    t = d.arrival_offset_s
    assert (np.diff(np.where(np.isfinite(t), t, 1e9), axis=1) >= 0).all()
    real = t[np.isfinite(t)]
    assert real.min() >= 0 and real.max() < 900
    # a homogeneous Poisson process: times uniform over the period, deciles equal to 10%
    deciles = np.histogram(real, bins=10, range=(0, 900))[0] / real.size
    assert np.abs(deciles - 0.1).max() < 4 * np.sqrt(0.09 / real.size)


def test_draws_are_padded_after_each_members_last_event():
    params = MarketParams.from_config(MarketConfig(arrival_rate_per_h=20.0))
    d = sample_period_draws(params, 0, 50, spawn_streams(3, STREAMS))
    count = np.isfinite(d.arrival_offset_s).sum(axis=1)
    for b in range(50):
        assert (d.dwell_s[b, : count[b]] > 0).all() and (d.dwell_s[b, count[b] :] == 0).all()
        assert (d.choice_noise[b, count[b] :] == 0).all()
