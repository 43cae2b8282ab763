"""Money: energy cost, the profit EMAs, and the supply tariff (numpy forms; the compiled period
in :mod:`evprice.market.kernel` computes the same per session, the wholesale price integrated
over each charging interval included).

Per sub-step a station earns ``revenue = sum over its EVs of locked price x energy``, pays
``energy cost = (wholesale price / charging_efficiency + marginal_cost_per_kwh) x energy``
and a fixed cost ``fixed_cost_per_h x dt``; profit is revenue minus both costs.

The profit windows are exponential moving averages of the *rates* (currency/h), updated
every sub-step with weight ``alpha = 1 - exp(-dt / tau)``:
``ema <- (1 - alpha) ema + alpha x``. Over the ``S`` sub-steps of a period this recursion
has the closed form used by :func:`ema_after_period`.
"""

from __future__ import annotations

import numpy as np

from evprice.market.params import MarketParams


def unit_energy_cost(params: MarketParams, elec_price_per_kwh: np.ndarray) -> np.ndarray:
    """Cost of one kWh delivered, currency/kWh: wholesale / efficiency + marginal cost.

    Args:
        elec_price_per_kwh: (B, S) wholesale price of each sub-step.

    Returns:
        (B, N, S).
    """
    return elec_price_per_kwh[:, None, :] / params.config.charging_efficiency + params.marginal_cost_per_kwh[:, None]


def energy_cost(energy_kwh: np.ndarray, cost_per_kwh: np.ndarray) -> np.ndarray:
    """Cost of the energy delivered (broadcasting)."""
    return energy_kwh * cost_per_kwh


def ema_after_period(
    ema: np.ndarray, amount_per_substep: np.ndarray, decay: float, rate_weights_per_h: np.ndarray
) -> np.ndarray:
    """The EMA after ``S`` sub-step updates, in closed form.

    Args:
        ema: (...) the EMA before the period, currency/h.
        amount_per_substep: (..., S) amount earned or paid in each sub-step, currency.
        decay: ``(1 - alpha) ** S``.
        rate_weights_per_h: (S,) ``alpha (1 - alpha) ** (S - 1 - j) / dt_h``.

    Returns:
        (...) ``(1 - alpha)^S ema + sum_j alpha (1 - alpha)^(S-1-j) amount_j / dt_h``.
    """
    return decay * ema + amount_per_substep @ rate_weights_per_h


def tiered_supply_cost(
    grid_kwh_per_substep: np.ndarray, dt_h: float, threshold_kw: float, low_per_kwh: float, high_per_kwh: float
) -> np.ndarray:
    """Cost of supplying the stations' total draw with a two-tier tariff (document 2's supply cost).

    In each sub-step the average total draw ``P = E / dt`` is billed at ``low_per_kwh`` up
    to ``threshold_kw`` and at ``high_per_kwh`` above it.

    Args:
        grid_kwh_per_substep: (..., S) energy drawn from the grid by all stations together.
        dt_h: sub-step length, hours.

    Returns:
        (...) cost over the ``S`` sub-steps, currency.
    """
    low_kwh = np.minimum(grid_kwh_per_substep, threshold_kw * dt_h)
    return (low_per_kwh * low_kwh + high_per_kwh * (grid_kwh_per_substep - low_kwh)).sum(axis=-1)
