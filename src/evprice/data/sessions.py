"""Synthetic charging sessions calibrated from Paper_data, and a bootstrap of the real ones.

A session is an arrival time of day, an energy demand and a dwell (plug-in) time. The
parametric model, :class:`SessionModel`:

* **arrival**: hour ``h`` with probability ``arrival_weights[h]``, uniform within the hour;
  independent of the rest;
* **energy** ``E`` (kWh) and **average charging power** ``P`` (kW): each gamma or lognormal
  with a mean and a coefficient of variation (the parametrisation of
  :func:`evprice.market.draws.positive_draws`), joined by a Gaussian copula with
  correlation ``rho``: ``Z ~ N(0, [[1, rho], [rho, 1]])``, ``E = F_E^-1(Phi(Z_1))``,
  ``P = F_P^-1(Phi(Z_2))``;
* **dwell** ``D = E / P`` (h): in the data a session ends when charging ends, so the
  dwell time is the energy over the average power.

**Why this dependence.** Energy and dwell go together in the data (Spearman 0.53 over the
4,601 sessions of ``EV_data1.xlsx``). Of two candidate structures, each with gamma or
lognormal margins and a Gaussian copula (5 parameters), the joint log-likelihood of the
observed ``(E, D)`` pairs is about 1,100 higher for "dwell = energy / power" (best: gamma
energy, gamma power, ``rho = 0.39``) than for a copula directly between energy and dwell
(best: gamma energy, lognormal dwell); independent power (``rho = 0``) loses 382.
:func:`compare_dependence_models` computes the table that ``docs/data.md`` shows.

**Fitting** (:func:`fit_session_model`): the arrival weights are the sessions' shares by
start hour; each margin by maximum likelihood (gamma: the shape solves
``ln a - digamma(a) = ln mean(x) - mean(ln x)``, the mean is the sample mean; lognormal:
mean and standard deviation of ``ln x``); then ``rho`` by maximum likelihood of the Gaussian
copula on the margins' normal scores (the two-step "inference functions for margins"
estimator; the root of a cubic). The family pair (gamma / lognormal for energy and for
power) with the highest joint log-likelihood is kept.

:class:`BootstrapSampler` resamples the observed sessions instead, keeping each session's
arrival, energy and dwell together (and so the data's low-power sessions, which the
gamma power under-represents).

Every sampler takes an explicit ``numpy.random.Generator`` and nothing else random.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy import integrate, optimize, special, stats

from evprice.core.config import ConfigError, check_choice, check_float, check_int, invalid
from evprice.core.timing import HOURS_PER_DAY, SECONDS_PER_DAY, SECONDS_PER_HOUR
from evprice.data.paper_data import ChargingOrders

__all__ = [
    "CALIBRATED",
    "FAMILIES",
    "MIN_ENERGY_KWH",
    "BootstrapSampler",
    "DependenceFit",
    "SessionModel",
    "Sessions",
    "compare_dependence_models",
    "dwell_moments",
    "fit_marginal",
    "fit_session_model",
    "hourly_shares",
    "market_overrides",
    "observation_days",
    "sessions_from_orders",
]

FAMILIES = ("gamma", "lognormal")
"""Distribution families of the margins (the two the market draws from)."""

MIN_ENERGY_KWH = 0.5
"""Orders delivering this much energy or less are aborted sessions and left out of a fit."""

_Z_MAX = 37.0  # |normal score| cap: Phi(-37) ~ 6e-300 is still a normal float
_LAST_INSTANT_H = float(np.nextafter(float(HOURS_PER_DAY), 0.0))
_HERMITE_NODES, _HERMITE_WEIGHTS = np.polynomial.hermite_e.hermegauss(64)
_HERMITE_WEIGHTS = _HERMITE_WEIGHTS / math.sqrt(2.0 * math.pi)  # E[g(W)], W ~ N(0, 1)


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng={rng!r} is invalid: expected a numpy.random.Generator, e.g. np.random.default_rng(0)")
    return rng


# -- sessions ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Sessions:
    """Charging sessions, one per index; every array has shape ``(n,)``."""

    arrival_h: np.ndarray  # (n,) arrival time of day, hours in [0, 24)
    energy_kwh: np.ndarray  # (n,) energy the EV takes, > 0
    dwell_h: np.ndarray  # (n,) time plugged in, > 0

    def __post_init__(self) -> None:
        arrays = {}
        for name in ("arrival_h", "energy_kwh", "dwell_h"):
            a = np.asarray(getattr(self, name), dtype=np.float64)
            if a.ndim != 1 or not np.isfinite(a).all():
                raise ConfigError(f"Sessions.{name} is invalid: expected a 1-D array of finite numbers")
            arrays[name] = a
        if len({a.shape for a in arrays.values()}) != 1:
            shapes = {k: a.shape for k, a in arrays.items()}
            raise ConfigError(f"Sessions arrays must have one length; got {shapes}")
        if ((arrays["arrival_h"] < 0) | (arrays["arrival_h"] >= HOURS_PER_DAY)).any():
            raise ConfigError("Sessions.arrival_h is invalid: expected hours of the day in [0, 24)")
        for name in ("energy_kwh", "dwell_h"):
            if (arrays[name] <= 0).any():
                raise ConfigError(f"Sessions.{name} is invalid: expected positive values")
        for name, a in arrays.items():
            a.flags.writeable = False
            object.__setattr__(self, name, a)

    def __len__(self) -> int:
        return int(self.energy_kwh.shape[0])


def observation_days(orders: ChargingOrders) -> float:
    """Days from the first order's start of charging to the last one's."""
    if len(orders) < 2:
        raise ValueError("observation_days needs at least two orders")
    span = orders.start_time.max() - orders.start_time.min()
    return float(span / np.timedelta64(1, "s")) / SECONDS_PER_DAY


def sessions_from_orders(orders: ChargingOrders, min_energy_kwh: float = MIN_ENERGY_KWH) -> Sessions:
    """The orders as sessions: arrival = start of charging, dwell = charging time.

    Left out: orders delivering ``min_energy_kwh`` or less (aborted), orders flagged as
    abnormal settlements, and orders with no charging time.
    """
    min_energy_kwh = check_float("min_energy_kwh", min_energy_kwh, low=0.0)
    keep = (orders.energy_kwh > min_energy_kwh) & ~orders.abnormal_settlement & (orders.duration_min > 0)
    start = orders.start_time[keep]
    seconds = (start - start.astype("datetime64[D]")) / np.timedelta64(1, "s")
    return Sessions(
        arrival_h=seconds / SECONDS_PER_HOUR,
        energy_kwh=orders.energy_kwh[keep],
        dwell_h=orders.duration_min[keep] / 60.0,
    )


def hourly_shares(arrival_h: np.ndarray) -> np.ndarray:
    """Share of the arrivals in each hour of the day, shape ``(24,)``, summing to 1."""
    hours = np.floor(np.asarray(arrival_h, dtype=np.float64)).astype(np.int64)
    if hours.size == 0:
        raise ValueError("hourly_shares needs at least one arrival")
    return np.bincount(hours, minlength=HOURS_PER_DAY) / hours.size


# -- margins -------------------------------------------------------------------------------


def _lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    """``(mu, sigma)`` of the lognormal with this mean and cv."""
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - 0.5 * sigma2, math.sqrt(sigma2)


def _distribution(family: str, mean: float, cv: float) -> Any:
    """The scipy distribution of ``family`` with this mean and coefficient of variation."""
    if family == "gamma":
        shape = 1.0 / (cv * cv)
        return stats.gamma(shape, scale=mean / shape)
    mu, sigma = _lognormal_params(mean, cv)
    return stats.lognorm(sigma, scale=math.exp(mu))


def _quantiles(family: str, mean: float, cv: float, z: np.ndarray) -> np.ndarray:
    """Values whose normal scores are ``z`` (``F^-1(Phi(z))``), accurate in both tails."""
    z = np.clip(z, -_Z_MAX, _Z_MAX)
    if family == "lognormal":
        mu, sigma = _lognormal_params(mean, cv)
        return np.exp(mu + sigma * z)
    shape = 1.0 / (cv * cv)
    lower = z <= 0
    out = np.empty_like(z, dtype=np.float64)
    out[lower] = special.gammaincinv(shape, special.ndtr(z[lower]))
    out[~lower] = special.gammainccinv(shape, special.ndtr(-z[~lower]))
    return out * (mean / shape)


def _normal_scores(family: str, mean: float, cv: float, x: np.ndarray) -> np.ndarray:
    """``Phi^-1(F(x))``, the inverse of :func:`_quantiles`."""
    if family == "lognormal":
        mu, sigma = _lognormal_params(mean, cv)
        return (np.log(x) - mu) / sigma
    shape = 1.0 / (cv * cv)
    y = x * (shape / mean)
    cdf = special.gammainc(shape, y)
    lower = cdf <= 0.5
    out = np.empty_like(y, dtype=np.float64)
    out[lower] = special.ndtri(cdf[lower])
    out[~lower] = -special.ndtri(special.gammaincc(shape, y[~lower]))
    return np.clip(out, -_Z_MAX, _Z_MAX)


def fit_marginal(x: np.ndarray, family: str) -> tuple[float, float, float]:
    """Maximum-likelihood ``(mean, cv, log_likelihood)`` of ``family`` for positive data ``x``."""
    check_choice("family", family, FAMILIES)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 2 or not (np.isfinite(x) & (x > 0)).all():
        raise ValueError("fit_marginal needs a 1-D array of at least two positive finite values")
    logs = np.log(x)
    if family == "gamma":
        gap = math.log(x.mean()) - logs.mean()  # >= 0 (Jensen), 0 only if all equal
        if gap <= 1e-14:
            raise ValueError("fit_marginal: the values are all equal; a gamma fit needs spread")
        shape = optimize.brentq(lambda a: math.log(a) - special.digamma(a) - gap, 1e-8, 1e12, xtol=1e-300)
        mean, cv = float(x.mean()), 1.0 / math.sqrt(shape)
    else:
        mu, sigma = float(logs.mean()), float(logs.std())
        if sigma <= 1e-14:
            raise ValueError("fit_marginal: the values are all equal; a lognormal fit needs spread")
        mean, cv = math.exp(mu + 0.5 * sigma * sigma), math.sqrt(math.expm1(sigma * sigma))
    return mean, cv, float(_distribution(family, mean, cv).logpdf(x).sum())


# -- Gaussian copula -----------------------------------------------------------------------


def _copula_log_likelihood(rho: float, z1: np.ndarray, z2: np.ndarray) -> float:
    """Log-density of the Gaussian copula with correlation ``rho`` at normal scores ``(z1, z2)``."""
    r2 = rho * rho
    quad = (r2 * (z1 * z1 + z2 * z2) - 2.0 * rho * z1 * z2) / (2.0 * (1.0 - r2))
    return float(-0.5 * z1.size * math.log1p(-r2) - quad.sum())


def _fit_copula(z1: np.ndarray, z2: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood correlation of a Gaussian copula with standard normal scores, and its log-likelihood.

    The score equation is the cubic ``-n r^3 + S12 r^2 + (n - S11 - S22) r + S12 = 0``; it has
    a root in ``[-1, 1]`` (its value is ``sum (z1 + z2)^2 >= 0`` at -1 and ``-sum (z1 - z2)^2 <= 0``
    at 1). The root with the highest likelihood is taken.
    """
    n = float(z1.size)
    s11, s22, s12 = float(z1 @ z1), float(z2 @ z2), float(z1 @ z2)
    roots = np.roots([-n, s12, n - s11 - s22, s12])
    real = [float(r.real) for r in roots if abs(r.imag) < 1e-9 and -1.0 < r.real < 1.0]
    if not real:  # perfectly (anti)dependent scores
        raise ValueError("the copula correlation is +-1: the two variables are functions of each other")
    best = max(real, key=lambda r: _copula_log_likelihood(r, z1, z2))
    return best, _copula_log_likelihood(best, z1, z2)


class DependenceFit(NamedTuple):
    """One fitted bivariate model: margins, copula correlation and joint log-likelihood."""

    structure: str  # 'energy-power' (dwell = energy / power) or 'energy-dwell'
    energy_family: str
    energy_mean_kwh: float
    energy_cv: float
    other_family: str  # family of the power (kW) or of the dwell time (h)
    other_mean: float
    other_cv: float
    correlation: float  # Gaussian-copula correlation
    log_likelihood: float  # of the observed (energy, dwell) pairs


def _fit_pair(
    structure: str, energy: np.ndarray, other: np.ndarray, f1: str, f2: str, jacobian: float
) -> DependenceFit:
    m1, cv1, ll1 = fit_marginal(energy, f1)
    m2, cv2, ll2 = fit_marginal(other, f2)
    rho, llc = _fit_copula(_normal_scores(f1, m1, cv1, energy), _normal_scores(f2, m2, cv2, other))
    return DependenceFit(structure, f1, m1, cv1, f2, m2, cv2, rho, ll1 + ll2 + llc + jacobian)


def compare_dependence_models(sessions: Sessions) -> list[DependenceFit]:
    """Fit both dependence structures with every pair of families; best log-likelihood first.

    Each log-likelihood is that of the observed ``(energy_kwh, dwell_h)`` pairs, so the two
    structures compare directly: for ``energy-power`` the density of ``(E, P = E / D)`` is
    multiplied by the Jacobian ``E / D^2``.
    """
    e, d = sessions.energy_kwh, sessions.dwell_h
    jacobian = float(np.sum(np.log(e) - 2.0 * np.log(d)))
    fits = [
        _fit_pair(structure, e, other, f1, f2, jac)
        for structure, other, jac in (("energy-power", e / d, jacobian), ("energy-dwell", d, 0.0))
        for f1 in FAMILIES
        for f2 in FAMILIES
    ]
    return sorted(fits, key=lambda f: -f.log_likelihood)


# -- the model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionModel:
    """Parametric sessions: arrival hour, energy and average power (Gaussian copula), dwell = energy / power.

    Validated at construction; a bad value raises :class:`~evprice.core.config.ConfigError`
    naming the field. ``arrival_weights`` summing to 1 within 1e-6 are renormalised.
    """

    arrival_weights: tuple[float, ...]  # (24,) probability of arriving in each hour of the day
    arrivals_per_day: float  # sessions a day at the station the model describes, EV/day
    energy_distribution: str  # 'gamma' or 'lognormal'
    energy_mean_kwh: float
    energy_cv: float
    power_distribution: str  # 'gamma' or 'lognormal'; average power = energy / dwell
    power_mean_kw: float
    power_cv: float
    energy_power_correlation: float  # Gaussian-copula correlation of energy and power, in (-1, 1)

    def __post_init__(self) -> None:
        w = self.arrival_weights
        if isinstance(w, (str, bytes)) or not hasattr(w, "__len__") or len(w) != HOURS_PER_DAY:
            raise invalid("arrival_weights", w, f"{HOURS_PER_DAY} non-negative numbers summing to 1")
        weights = [check_float(f"arrival_weights[{h}]", v, low=0.0) for h, v in enumerate(w)]
        total = math.fsum(weights)
        if abs(total - 1.0) > 1e-6:
            raise invalid("arrival_weights", w, f"{HOURS_PER_DAY} non-negative numbers summing to 1 (sum {total:g})")
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        set_("arrival_weights", tuple(v / total for v in weights))
        set_("arrivals_per_day", check_float("arrivals_per_day", self.arrivals_per_day, low=0.0, low_open=True))
        check_choice("energy_distribution", self.energy_distribution, FAMILIES)
        check_choice("power_distribution", self.power_distribution, FAMILIES)
        for name in ("energy_mean_kwh", "power_mean_kw"):
            set_(name, check_float(name, getattr(self, name), low=0.0, low_open=True))
        for name in ("energy_cv", "power_cv"):
            set_(name, check_float(name, getattr(self, name), low=0.0, high=10.0, low_open=True))
        rho = "energy_power_correlation"
        set_(rho, check_float(rho, getattr(self, rho), low=-1.0, high=1.0, low_open=True, high_open=True))

    def sample(self, n: int, rng: np.random.Generator) -> Sessions:
        """``n`` independent sessions drawn with ``rng`` only.

        Draws, in order: the arrival hours (``rng.choice``), the offsets within the hour
        (``rng.random``), then a ``(2, n)`` block of standard normals for the copula.
        """
        n = check_int("n", n, low=0)
        rng = _check_rng(rng)
        hour = rng.choice(HOURS_PER_DAY, size=n, p=np.asarray(self.arrival_weights))
        arrival_h = np.minimum(hour + rng.random(n), _LAST_INSTANT_H)
        z = rng.standard_normal((2, n))
        rho = self.energy_power_correlation
        z_power = rho * z[0] + math.sqrt(1.0 - rho * rho) * z[1]
        energy = _quantiles(self.energy_distribution, self.energy_mean_kwh, self.energy_cv, z[0])
        power = _quantiles(self.power_distribution, self.power_mean_kw, self.power_cv, z_power)
        return Sessions(arrival_h=arrival_h, energy_kwh=energy, dwell_h=energy / power)


def fit_session_model(
    data: ChargingOrders | Sessions, *, n_days: float | None = None, min_energy_kwh: float = MIN_ENERGY_KWH
) -> SessionModel:
    """Fit a :class:`SessionModel` (method: the module docstring).

    Args:
        data: charging orders (turned into sessions by :func:`sessions_from_orders`) or sessions.
        n_days: days the data covers, for ``arrivals_per_day``; default for orders:
            :func:`observation_days`; required for sessions.
        min_energy_kwh: orders at or below this energy are left out (orders only).
    """
    if isinstance(data, ChargingOrders):
        sessions = sessions_from_orders(data, min_energy_kwh)
        n_days = observation_days(data) if n_days is None else n_days
    elif isinstance(data, Sessions):
        sessions = data
        if n_days is None:
            raise ValueError("fit_session_model: pass n_days, the days the sessions cover, to fit arrivals_per_day")
    else:
        raise TypeError(f"fit_session_model: expected ChargingOrders or Sessions, got {type(data).__name__}")
    n_days = check_float("n_days", n_days, low=0.0, low_open=True)
    best = next(f for f in compare_dependence_models(sessions) if f.structure == "energy-power")
    return SessionModel(
        arrival_weights=tuple(float(v) for v in hourly_shares(sessions.arrival_h)),
        arrivals_per_day=len(sessions) / n_days,
        energy_distribution=best.energy_family,
        energy_mean_kwh=best.energy_mean_kwh,
        energy_cv=best.energy_cv,
        power_distribution=best.other_family,
        power_mean_kw=best.other_mean,
        power_cv=best.other_cv,
        energy_power_correlation=best.correlation,
    )


# -- the market's view ---------------------------------------------------------------------


def dwell_moments(model: SessionModel) -> tuple[float, float]:
    """Mean (h) and coefficient of variation of the model's dwell time ``D = E / P``.

    ``E[D^k] = E[P(Z_2)^-k E[E(Z_1)^k | Z_2]]``: the inner expectation by 64-point
    Gauss-Hermite quadrature over ``Z_1 | Z_2 ~ N(rho Z_2, 1 - rho^2)``, the outer by
    adaptive quadrature over ``Z_2``. A gamma power needs ``power_cv < 1/sqrt(2)`` (shape
    above 2) for the dwell time to have a variance.
    """
    if model.power_distribution == "gamma" and model.power_cv >= 1.0 / math.sqrt(2.0):
        raise ValueError(
            f"power_cv={model.power_cv:g} is too large for a gamma power: the dwell time E / P has no finite "
            "variance unless power_cv < 0.7071"
        )
    rho = model.energy_power_correlation
    s = math.sqrt(1.0 - rho * rho)

    def energy_moment(z2: float, k: int) -> float:
        z1 = rho * z2 + s * _HERMITE_NODES
        e = _quantiles(model.energy_distribution, model.energy_mean_kwh, model.energy_cv, z1)
        return float(_HERMITE_WEIGHTS @ e**k)

    def integrand(z2: float, k: int) -> float:
        p = _quantiles(model.power_distribution, model.power_mean_kw, model.power_cv, np.array([z2]))[0]
        return math.exp(-0.5 * z2 * z2 - k * math.log(p)) / math.sqrt(2.0 * math.pi) * energy_moment(z2, k)

    m1, m2 = (
        integrate.quad(integrand, -_Z_MAX, _Z_MAX, args=(k,), points=[0.0], limit=400, epsabs=0.0, epsrel=1e-10)[0]
        for k in (1, 2)
    )
    return m1, math.sqrt(max(m2 - m1 * m1, 0.0)) / m1


def market_overrides(
    model: SessionModel, *, n_stations: int = 2, dwell_time_distribution: str = "gamma"
) -> dict[str, Any]:
    """``MarketConfig`` overrides whose draws have the model's marginal moments.

    ``MarketConfig.from_overrides(market_overrides(model, n_stations=3))`` is a market of 3
    stations, each with ``model.arrivals_per_day`` arrivals a day in the model's hourly
    pattern (``arrival_rate_per_h``, market wide), the model's energy family, mean and cv,
    and a dwell time with the mean and cv of ``E / P`` (:func:`dwell_moments`) in
    ``dwell_time_distribution`` (the ratio is in neither family; the data's dwell times
    prefer gamma to lognormal by log-likelihood). The market draws energy and dwell
    independently, so their dependence is lost.
    """
    n_stations = check_int("n_stations", n_stations, low=1)
    check_choice("dwell_time_distribution", dwell_time_distribution, FAMILIES)
    dwell_mean_h, dwell_cv = dwell_moments(model)
    daily = n_stations * model.arrivals_per_day
    return {
        "n_stations": n_stations,
        "arrival_rate_per_h": [daily * w for w in model.arrival_weights],
        "energy_demand_distribution": model.energy_distribution,
        "energy_demand_mean_kwh": model.energy_mean_kwh,
        "energy_demand_cv": model.energy_cv,
        "dwell_time_distribution": dwell_time_distribution,
        "dwell_time_mean_h": dwell_mean_h,
        "dwell_time_cv": dwell_cv,
    }


# -- bootstrap -----------------------------------------------------------------------------


class BootstrapSampler:
    """Resample observed sessions with replacement, each session's arrival, energy and dwell together."""

    def __init__(self, sessions: Sessions) -> None:
        if not isinstance(sessions, Sessions) or len(sessions) == 0:
            raise ValueError("BootstrapSampler needs a non-empty Sessions")
        self.sessions = sessions

    def sample(self, n: int, rng: np.random.Generator) -> Sessions:
        """``n`` sessions drawn uniformly with replacement (one ``rng.integers`` call)."""
        n = check_int("n", n, low=0)
        i = _check_rng(rng).integers(0, len(self.sessions), size=n)
        s = self.sessions
        return Sessions(arrival_h=s.arrival_h[i], energy_kwh=s.energy_kwh[i], dwell_h=s.dwell_h[i])


# -- calibrated to Paper_data --------------------------------------------------------------
# Reproduce with `python scripts/calibrate_defaults.py` (it prints this block), i.e.
# fit_session_model(load_charging_orders(".../EV_data1.xlsx")); tests/data/test_sessions.py
# re-fits and checks these numbers when the data is present.

_CALIBRATED_ARRIVAL_COUNTS = (
    356, 270, 199, 214, 179, 193, 204, 279, 131, 143, 94, 114,
    205, 187, 118, 106, 149, 132, 150, 181, 295, 253, 168, 281,
)  # fmt: skip
"""Sessions starting in each hour of the day (00-01 h first): 4,601 sessions over 118.65 days."""

CALIBRATED = SessionModel(
    arrival_weights=tuple(c / sum(_CALIBRATED_ARRIVAL_COUNTS) for c in _CALIBRATED_ARRIVAL_COUNTS),
    arrivals_per_day=38.7779,
    energy_distribution="gamma",
    energy_mean_kwh=21.7876,
    energy_cv=0.751361,
    power_distribution="gamma",
    power_mean_kw=26.7425,
    power_cv=0.643055,
    energy_power_correlation=0.389054,
)
"""The session model fitted to Paper_data's ``EV_data1.xlsx`` (one station, Jan-Apr 2022)."""
