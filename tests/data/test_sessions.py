"""Session generator, fit, bootstrap and market overrides.

Statistical tests seed their generators and allow 5 standard errors, each computed from
the sample size (delta method or Fisher information, as noted).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from evprice.core.config import ConfigError
from evprice.data import (
    CALIBRATED,
    BootstrapSampler,
    SessionModel,
    Sessions,
    compare_dependence_models,
    dwell_moments,
    fit_marginal,
    fit_session_model,
    hourly_shares,
    market_overrides,
    sessions_from_orders,
)
from evprice.data.sessions import _fit_copula, _normal_scores, _quantiles

Z = 5.0  # standard errors allowed

WEIGHTS = tuple(np.r_[np.full(12, 1.0), np.full(12, 3.0)] / 48.0)  # a quarter of arrivals before noon


def model(**changes):
    base = dict(
        arrival_weights=WEIGHTS,
        arrivals_per_day=40.0,
        energy_distribution="gamma",
        energy_mean_kwh=20.0,
        energy_cv=0.6,
        power_distribution="lognormal",
        power_mean_kw=25.0,
        power_cv=0.4,
        energy_power_correlation=0.5,
    )
    return SessionModel(**{**base, **changes})


def cv_and_se(x):
    """Sample cv and its delta-method standard error from the sample's own moments."""
    m1, m2 = x.mean(), (x * x).mean()
    s = math.sqrt(m2 - m1 * m1)
    grad = np.array([-1.0 / s - s / m1**2, 1.0 / (2.0 * s * m1)])
    cov = np.cov(np.vstack([x, x * x]))
    return s / m1, math.sqrt(grad @ cov @ grad / x.size)


def check_mean_and_cv(x, mean, cv):
    se_mean = x.std() / math.sqrt(x.size)
    assert abs(x.mean() - mean) < Z * se_mean, (x.mean(), mean, se_mean)
    got, se = cv_and_se(x)
    assert abs(got - cv) < Z * se, (got, cv, se)


# -- Sessions and SessionModel validation ---------------------------------------------------


def test_sessions_validate_their_arrays():
    ok = Sessions(arrival_h=[0.0, 23.99], energy_kwh=[1.0, 2.0], dwell_h=[0.5, 1.0])
    assert len(ok) == 2 and ok.energy_kwh.dtype == np.float64 and not ok.energy_kwh.flags.writeable
    with pytest.raises(ConfigError, match="one length"):
        Sessions(arrival_h=[0.0], energy_kwh=[1.0, 2.0], dwell_h=[0.5, 1.0])
    with pytest.raises(ConfigError, match=r"arrival_h is invalid.*\[0, 24\)"):
        Sessions(arrival_h=[24.0], energy_kwh=[1.0], dwell_h=[1.0])
    with pytest.raises(ConfigError, match="energy_kwh is invalid: expected positive"):
        Sessions(arrival_h=[1.0], energy_kwh=[0.0], dwell_h=[1.0])
    with pytest.raises(ConfigError, match="dwell_h is invalid: expected a 1-D array of finite"):
        Sessions(arrival_h=[1.0], energy_kwh=[1.0], dwell_h=[np.nan])


@pytest.mark.parametrize(
    "changes, field",
    [
        (dict(arrival_weights=(1 / 23,) * 23), "arrival_weights"),
        (dict(arrival_weights=(0.5 / 24,) * 24), "arrival_weights"),
        (dict(arrival_weights=(-0.1,) + (1.1 / 23,) * 23), r"arrival_weights\[0\]"),
        (dict(arrivals_per_day=0.0), "arrivals_per_day"),
        (dict(energy_distribution="weibull"), "energy_distribution"),
        (dict(power_mean_kw=-1.0), "power_mean_kw"),
        (dict(energy_cv=0.0), "energy_cv"),
        (dict(energy_power_correlation=1.0), "energy_power_correlation"),
    ],
)
def test_session_model_rejects_bad_values_naming_the_field(changes, field):
    with pytest.raises(ConfigError, match=f"^{field}="):
        model(**changes)


def test_weights_close_to_one_are_renormalised():
    m = model(arrival_weights=tuple(w * (1 + 5e-7) for w in WEIGHTS))
    assert math.fsum(m.arrival_weights) == pytest.approx(1.0, abs=1e-15)


# -- the generator -------------------------------------------------------------------------


@pytest.mark.parametrize("energy_family", ["gamma", "lognormal"])
@pytest.mark.parametrize("power_family", ["gamma", "lognormal"])
def test_generated_sessions_have_the_model_moments_and_shares(energy_family, power_family):
    m = model(energy_distribution=energy_family, power_distribution=power_family)
    n = 200_000
    s = m.sample(n, np.random.default_rng(11))
    assert len(s) == n
    check_mean_and_cv(s.energy_kwh, 20.0, 0.6)
    check_mean_and_cv(s.energy_kwh / s.dwell_h, 25.0, 0.4)  # average power
    shares = hourly_shares(s.arrival_h)
    w = np.asarray(WEIGHTS)
    assert (np.abs(shares - w) < Z * np.sqrt(w * (1 - w) / n)).all()
    within_hour = s.arrival_h % 1.0
    assert abs((within_hour < 0.5).mean() - 0.5) < Z * 0.5 / math.sqrt(n)  # uniform within the hour
    z1 = _normal_scores(energy_family, 20.0, 0.6, s.energy_kwh)
    z2 = _normal_scores(power_family, 25.0, 0.4, s.energy_kwh / s.dwell_h)
    rho = np.corrcoef(z1, z2)[0, 1]
    assert abs(rho - 0.5) < Z * (1 - 0.25) / math.sqrt(n)
    dwell_mean, dwell_cv = dwell_moments(m)
    check_mean_and_cv(s.dwell_h, dwell_mean, dwell_cv)


def test_quantiles_invert_normal_scores_in_both_tails():
    z = np.array([-30.0, -8.0, -1.0, 0.0, 1.0, 8.0, 30.0])
    for family in ("gamma", "lognormal"):
        x = _quantiles(family, 20.0, 0.7, z)
        assert (x > 0).all() and np.isfinite(x).all() and (np.diff(x) > 0).all()
        np.testing.assert_allclose(_normal_scores(family, 20.0, 0.7, x), z, rtol=1e-8, atol=1e-8)
    a = 1 / 0.7**2  # the gamma quantile at the median is the scipy one
    assert _quantiles("gamma", 20.0, 0.7, np.array([0.0]))[0] == pytest.approx(stats.gamma(a, scale=20 / a).median())


def test_sampling_uses_only_the_generator_passed():
    m = model()
    before = np.random.get_state()[1].copy()
    a = m.sample(1000, np.random.default_rng(5))
    b = m.sample(1000, np.random.default_rng(5))
    c = m.sample(1000, np.random.default_rng(6))
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    for field in ("arrival_h", "energy_kwh", "dwell_h"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert not np.array_equal(getattr(a, field), getattr(c, field))
    assert len(m.sample(0, np.random.default_rng(0))) == 0
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        m.sample(10, 42)


# -- fitting -------------------------------------------------------------------------------


def test_fit_marginal_is_the_maximum_likelihood():
    x = stats.gamma(2.5, scale=4.0).rvs(5000, random_state=np.random.default_rng(0))
    mean, cv, ll = fit_marginal(x, "gamma")
    assert mean == pytest.approx(x.mean(), rel=1e-12)  # the gamma MLE keeps the sample mean
    a = 1 / cv**2
    assert math.log(a) - special.digamma(a) == pytest.approx(math.log(x.mean()) - np.log(x).mean(), rel=1e-10)
    a_scipy, _, _ = stats.gamma.fit(x, floc=0)
    assert a == pytest.approx(a_scipy, rel=1e-4)
    assert ll == pytest.approx(stats.gamma(a, scale=mean / a).logpdf(x).sum(), rel=1e-12)
    mean, cv, _ = fit_marginal(x, "lognormal")
    logs = np.log(x)
    assert mean == pytest.approx(math.exp(logs.mean() + logs.var() / 2), rel=1e-12)
    assert cv == pytest.approx(math.sqrt(math.expm1(logs.var())), rel=1e-12)
    with pytest.raises(ValueError, match="all equal"):
        fit_marginal(np.full(5, 2.0), "gamma")
    with pytest.raises(ConfigError, match="family="):
        fit_marginal(x, "normal")


def test_copula_correlation_maximises_the_likelihood():
    rng = np.random.default_rng(3)
    z1 = rng.standard_normal(500)
    z2 = -0.3 * z1 + math.sqrt(1 - 0.09) * rng.standard_normal(500)
    rho, ll = _fit_copula(z1, z2)

    def neg(r):
        q = (r * r * (z1 @ z1 + z2 @ z2) - 2 * r * (z1 @ z2)) / (2 * (1 - r * r))
        return 0.5 * z1.size * math.log(1 - r * r) + q

    numeric = optimize.minimize_scalar(neg, bounds=(-0.99, 0.99), method="bounded", options={"xatol": 1e-12})
    assert rho == pytest.approx(numeric.x, abs=1e-8) and ll == pytest.approx(-numeric.fun, rel=1e-10)
    with pytest.raises(ValueError, match=r"\+-1"):
        _fit_copula(z1, z1)


@pytest.mark.parametrize("families", [("gamma", "gamma"), ("lognormal", "gamma"), ("gamma", "lognormal")])
def test_fit_recovers_known_parameters(families):
    e_family, p_family = families
    truth = model(energy_distribution=e_family, power_distribution=p_family, energy_power_correlation=0.35)
    n = 20_000
    fitted = fit_session_model(truth.sample(n, np.random.default_rng(21)), n_days=n / 40.0)
    assert (fitted.energy_distribution, fitted.power_distribution) == families
    assert fitted.arrivals_per_day == pytest.approx(40.0)
    for mean, cv, family, got_mean, got_cv in (
        (20.0, 0.6, e_family, fitted.energy_mean_kwh, fitted.energy_cv),
        (25.0, 0.4, p_family, fitted.power_mean_kw, fitted.power_cv),
    ):
        if family == "gamma":  # Fisher information of the shape a with the scale unknown
            a = 1 / cv**2
            se_cv = 0.5 * a**-1.5 * math.sqrt(a / (n * (a * special.polygamma(1, a) - 1)))
            se_mean = mean * cv / math.sqrt(n)
        else:  # sigma-hat has se sigma / sqrt(2n); ln(mean) = mu + sigma^2 / 2
            s2 = math.log1p(cv * cv)
            se_cv = math.sqrt(s2) * (1 + cv * cv) / cv * math.sqrt(s2 / (2 * n))
            se_mean = mean * math.sqrt(s2 / n + s2 * s2 / (2 * n))
        assert abs(got_mean - mean) < Z * se_mean, (family, got_mean, mean)
        assert abs(got_cv - cv) < Z * se_cv, (family, got_cv, cv)
    assert abs(fitted.energy_power_correlation - 0.35) < Z * (1 - 0.35**2) / math.sqrt(n)
    w = np.asarray(WEIGHTS)
    assert (np.abs(np.asarray(fitted.arrival_weights) - w) < Z * np.sqrt(w * (1 - w) / n)).all()


def test_the_generating_structure_ranks_first():
    s = model(energy_distribution="gamma", power_distribution="gamma").sample(20_000, np.random.default_rng(4))
    fits = compare_dependence_models(s)
    assert len(fits) == 8 and fits[0].structure == "energy-power"
    assert (fits[0].energy_family, fits[0].other_family) == ("gamma", "gamma")
    assert [f.log_likelihood for f in fits] == sorted((f.log_likelihood for f in fits), reverse=True)


def test_fit_needs_the_days_for_plain_sessions():
    s = model().sample(100, np.random.default_rng(0))
    with pytest.raises(ValueError, match="pass n_days"):
        fit_session_model(s)
    with pytest.raises(TypeError, match="ChargingOrders or Sessions"):
        fit_session_model([1, 2, 3])


# -- dwell moments and market overrides ------------------------------------------------------


def test_dwell_moments_of_lognormal_margins_match_the_closed_form():
    m = model(energy_distribution="lognormal", energy_cv=0.8, power_cv=0.5, energy_power_correlation=0.3)
    s1, s2 = math.sqrt(math.log1p(0.64)), math.sqrt(math.log1p(0.25))
    mu = (math.log(20.0) - s1 * s1 / 2) - (math.log(25.0) - s2 * s2 / 2)  # ln D = ln E - ln P is normal
    var = s1 * s1 + s2 * s2 - 2 * 0.3 * s1 * s2
    mean, cv = dwell_moments(m)
    assert mean == pytest.approx(math.exp(mu + var / 2), rel=1e-8)
    assert cv == pytest.approx(math.sqrt(math.expm1(var)), rel=1e-7)


def test_dwell_moments_of_independent_gamma_margins_match_the_closed_form():
    m = model(power_distribution="gamma", power_cv=0.5, energy_power_correlation=0.0)
    a, theta = 4.0, 25.0 / 4.0  # E[1/P] = 1 / (theta (a - 1)), E[1/P^2] = 1 / (theta^2 (a - 1)(a - 2))
    m1 = 20.0 / (theta * (a - 1))
    m2 = 20.0**2 * (1 + 0.36) / (theta**2 * (a - 1) * (a - 2))
    mean, cv = dwell_moments(m)
    assert mean == pytest.approx(m1, rel=1e-8)
    assert cv == pytest.approx(math.sqrt(m2 - m1 * m1) / m1, rel=1e-7)
    with pytest.raises(ValueError, match="no finite variance"):
        dwell_moments(model(power_distribution="gamma", power_cv=0.71))


def test_market_overrides_build_a_valid_market_with_the_model_moments():
    from evprice.market.config import MarketConfig

    overrides = market_overrides(CALIBRATED, n_stations=3)
    cfg = MarketConfig.from_overrides(overrides)
    assert cfg.n_stations == 3
    assert sum(cfg.arrival_rates_per_h()) == pytest.approx(3 * CALIBRATED.arrivals_per_day)
    np.testing.assert_allclose(
        cfg.arrival_rates_per_h() / cfg.arrival_rates_per_h().sum(), CALIBRATED.arrival_weights, rtol=1e-12
    )
    assert (cfg.energy_demand_distribution, cfg.energy_demand_mean_kwh, cfg.energy_demand_cv) == (
        "gamma",
        CALIBRATED.energy_mean_kwh,
        CALIBRATED.energy_cv,
    )
    assert (cfg.dwell_time_mean_h, cfg.dwell_time_cv) == dwell_moments(CALIBRATED)
    assert cfg.dwell_time_distribution == "gamma"
    assert market_overrides(CALIBRATED, dwell_time_distribution="lognormal")["dwell_time_distribution"] == "lognormal"


def test_calibrated_model_dwell_moments():
    mean, cv = dwell_moments(CALIBRATED)
    assert mean == pytest.approx(1.0931, rel=1e-4) and cv == pytest.approx(1.1738, rel=1e-4)


# -- bootstrap -----------------------------------------------------------------------------


def test_bootstrap_draws_whole_observed_sessions_uniformly():
    source = model().sample(50, np.random.default_rng(1))
    sampler = BootstrapSampler(source)
    n = 200_000
    s = sampler.sample(n, np.random.default_rng(2))
    rows = {(a, e, d): i for i, (a, e, d) in enumerate(zip(source.arrival_h, source.energy_kwh, source.dwell_h))}
    index = np.array([rows[key] for key in zip(s.arrival_h, s.energy_kwh, s.dwell_h)])  # KeyError = not a row
    freq = np.bincount(index, minlength=50) / n
    assert (np.abs(freq - 1 / 50) < Z * math.sqrt((1 / 50) * (49 / 50) / n)).all()
    # the bootstrap's distribution is the empirical one: the sample's ECDF matches the source's
    assert stats.ks_2samp(s.energy_kwh[:5000], source.energy_kwh).pvalue > 1e-3


def test_bootstrap_is_deterministic_and_validated():
    sampler = BootstrapSampler(model().sample(20, np.random.default_rng(1)))
    a, b = sampler.sample(100, np.random.default_rng(9)), sampler.sample(100, np.random.default_rng(9))
    np.testing.assert_array_equal(a.energy_kwh, b.energy_kwh)
    empty = Sessions(arrival_h=[], energy_kwh=[], dwell_h=[])
    with pytest.raises(ValueError, match="non-empty"):
        BootstrapSampler(empty)


# -- the real data (skipped when absent) ---------------------------------------------------


def test_calibrated_constants_match_a_refit(paper_data):
    fitted = fit_session_model(paper_data.orders)
    for name in ("energy_distribution", "power_distribution"):
        assert getattr(fitted, name) == getattr(CALIBRATED, name)
    for name in ("arrivals_per_day", "energy_mean_kwh", "energy_cv", "power_mean_kw", "power_cv"):
        assert getattr(fitted, name) == pytest.approx(getattr(CALIBRATED, name), rel=1e-3), name
    assert fitted.energy_power_correlation == pytest.approx(CALIBRATED.energy_power_correlation, rel=1e-3)
    np.testing.assert_allclose(fitted.arrival_weights, CALIBRATED.arrival_weights, rtol=1e-3)


def test_real_data_prefers_dwell_as_energy_over_power(paper_data):
    fits = compare_dependence_models(sessions_from_orders(paper_data.orders))
    best_direct = next(f for f in fits if f.structure == "energy-dwell")
    assert fits[0].structure == "energy-power" and fits[0].log_likelihood - best_direct.log_likelihood > 1000


def test_bootstrap_of_real_sessions_has_their_moments(paper_data):
    real = sessions_from_orders(paper_data.orders)
    s = BootstrapSampler(real).sample(100_000, np.random.default_rng(0))
    check_mean_and_cv(s.energy_kwh, real.energy_kwh.mean(), real.energy_kwh.std() / real.energy_kwh.mean())
    assert np.abs(hourly_shares(s.arrival_h) - hourly_shares(real.arrival_h)).max() < Z * math.sqrt(0.25 / 100_000)
