"""Charging sessions: when an EV charges, how long it holds a charger, how much it gets.

An EV admitted at time ``t_a`` holds its charger until it leaves at ``t_a + D`` (its dwell
time). It draws the charger power ``P`` from arrival until its energy demand ``E`` is met
or it leaves, i.e. during ``[t_a, t_a + min(E / P, D))``, and so receives ``min(E, P D)``
kWh. Times are continuous: the internal step ``dt`` only sets how finely energy and money
are accounted, never when a charger is free. The timing itself is computed per session in
the compiled period (:mod:`evprice.market.kernel`); this module holds the session model's
expectations.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, stats


def survival_function(distribution: str, mean: float, cv: float):
    """``x -> P(X > x)`` of the session quantity with ``mean`` and coefficient of variation ``cv``."""
    if cv == 0.0:
        return lambda x: np.asarray(x < mean, dtype=np.float64)
    if distribution == "gamma":
        shape = 1.0 / (cv * cv)
        return stats.gamma(a=shape, scale=mean / shape).sf
    sigma = np.sqrt(np.log1p(cv * cv))
    return stats.lognorm(s=sigma, scale=mean * np.exp(-0.5 * sigma * sigma)).sf


def expected_delivered_kwh(
    energy: tuple[str, float, float], dwell_h: tuple[str, float, float], power_kw: float
) -> float:
    """``E[min(E, P D)]``: the mean energy an EV receives, with ``E`` and ``D`` independent.

    Args:
        energy: ``(distribution, mean kWh, cv)`` of the energy demand.
        dwell_h: ``(distribution, mean h, cv)`` of the dwell time.
        power_kw: charger power.

    Uses ``E[min(X, Y)] = integral over x >= 0 of P(X > x) P(Y > x) dx`` for independent
    non-negative ``X``, ``Y``, by quadrature (exact when both are fixed).
    """
    e_dist, e_mean, e_cv = energy
    d_dist, d_mean, d_cv = dwell_h
    if e_cv == 0.0 and d_cv == 0.0:
        return float(min(e_mean, power_kw * d_mean))
    s_energy = survival_function(e_dist, e_mean, e_cv)
    s_dwell = survival_function(d_dist, d_mean, d_cv)
    integrand = lambda x: float(s_energy(x) * s_dwell(x / power_kw))  # noqa: E731
    # a fixed quantity makes the integrand vanish past it: integrate up to there only
    upper = e_mean if e_cv == 0.0 else (power_kw * d_mean if d_cv == 0.0 else np.inf)
    value, _ = integrate.quad(integrand, 0.0, upper, limit=200, epsabs=1e-10, epsrel=1e-10)
    return float(value)
