"""Social welfare: the drivers' consumer surplus plus the stations' profit, in currency.

**Consumer surplus** is measured against not charging here, the outside option (so a
market needs one for welfare to be defined: ``MarketConfig`` refuses
``objective="social_welfare"`` without it). A driver who takes the outside option, gives up
or is blocked gains 0; an admitted driver ``i`` at station ``k`` gains

    CS_i = m_i (u_ik - u_i0) + p_k (E_i - d_i)    [+ VoT (E[W_i] - W_i), generalised, queueing]

* ``u_ik - u_i0`` is the utility of the station the driver chose over the outside option,
  realised noise included, as the driver valued it when choosing (congestion or expected
  wait included);
* ``m_i`` turns that into money. Utility drivers value a price at ``-price_sensitivity x
  price`` and buy ``E_i`` kWh, so one unit of utility is worth ``E_i / price_sensitivity``
  currency. Generalised drivers' utility is already minus a cost in currency: ``m_i = 1``;
* drivers choose on the energy they want, ``E_i`` (a driver knows what they want, not what
  they will get), but pay for what they receive, ``d_i = P x charging time`` (``min(E_i, P
  D_i)``, cut at the horizon). The second term refunds the difference: the energy not
  received is bought elsewhere at the same price, so it is neither a gain nor a loss;
* a generalised driver who queues chose on the expected wait ``E[W_i]``
  (:func:`evprice.market.queueing.expected_wait_h`) and waits ``W_i``, known at admission
  (first come, first served); the last term counts the wait they actually get.

Its expectation over the Gumbel noise, for utility drivers with no capacity limit, is the
log-sum: ``E[max_j u_j - u_0] = sigma ln(sum_k exp(v_k / sigma) + exp(v_0 / sigma)) - v_0``
(:func:`logit_surplus_per_driver`), which is what the expected-demand mode books.

**Profit** is the booked profit of the period's sessions (``PeriodOutcome.booked_profit``:
whole sessions at admission, minus the period's fixed cost), so both terms are counted when
the driver is admitted, and the price is an exact transfer: a session's payment leaves the
surplus and enters the profit. Welfare then depends on prices only through who charges
where, and with logit drivers it is highest at marginal-cost prices.
"""

from __future__ import annotations

import numpy as np


def logit_surplus_per_driver(systematic: np.ndarray, outside_utility: float, scale: float) -> np.ndarray:
    """Expected utility gained over the outside option by one logit driver, utility units.

    ``sigma ln(sum_k exp(v_k / sigma) + exp(v_0 / sigma)) - v_0``, computed stably.

    Args:
        systematic: (..., N) systematic utility of each station.
        outside_utility: systematic utility ``v_0`` of the outside option.
        scale: Gumbel scale ``sigma`` (> 0).

    Returns:
        (...) non-negative surplus.
    """
    v = np.asarray(systematic, dtype=np.float64) - outside_utility  # relative to the outside option
    top = np.maximum(v.max(axis=-1), 0.0)
    logsum = top + scale * np.log(np.exp((v - top[..., None]) / scale).sum(axis=-1) + np.exp(-top / scale))
    return logsum


def surplus_defined(driver_cost: str, outside_option: float | None, price_sensitivity: float) -> bool:
    """Whether consumer surplus is defined: an outside option to measure it against and, for
    utility drivers, a price coefficient to turn utility into money.

    ``outside_option`` is ``outside_option_utility`` for utility drivers and
    ``outside_option_price_per_kwh`` for generalised ones.
    """
    if outside_option is None:
        return False
    return driver_cost == "generalised" or price_sensitivity > 0.0


def money_per_utility(driver_cost: str, price_sensitivity: float, energy_kwh: np.ndarray) -> np.ndarray:
    """Currency one unit of a driver's utility is worth (broadcast to ``energy_kwh``'s shape).

    Utility drivers: ``E / price_sensitivity`` (the price term is ``-price_sensitivity x
    price`` for ``E`` kWh). Generalised drivers: 1 (their utility is a cost in currency).
    """
    e = np.asarray(energy_kwh, dtype=np.float64)
    if driver_cost == "generalised":
        return np.ones_like(e)
    return e / price_sensitivity
