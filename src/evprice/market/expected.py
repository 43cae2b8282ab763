"""The expected-demand mode (``demand="expected"``): deterministic logit demand, no queue.

Each period every station sells its expected multinomial-logit share of the period's
expected arrivals, with no sampling and no capacity limit:

    admitted_i = Lambda * q_i,   q_i = exp(v_i / sigma) / (sum_j exp(v_j / sigma) + exp(v_0 / sigma)),

with ``v_i = station_utility_i - price_sensitivity price_i - travel_i`` and ``v_0`` the outside
option. Each EV buys, on arrival, the energy it would receive on average in the sampled
market, ``E[min(E, P D)]`` (``MarketParams.delivered_kwh_per_ev``), so the two
modes agree in expectation whenever blocking is negligible. There are no sessions:
occupancy and utilization stay 0, and the counts are expectations (floats). The consumer
surplus is its expectation, the logit log-sum (:mod:`evprice.market.welfare`).
"""

from __future__ import annotations

import numpy as np

from evprice.market.choice import logit_probabilities, systematic_utility
from evprice.market.dynamics import account_period
from evprice.market.params import MarketParams
from evprice.market.state import MarketState, PeriodOutcome
from evprice.market.welfare import logit_surplus_per_driver, surplus_defined


def expected_shares(params: MarketParams, price_per_kwh: np.ndarray) -> np.ndarray:
    """(B, N + 1) logit shares of the stations, then of the outside option."""
    cfg = params.config
    v = systematic_utility(price_per_kwh, cfg.price_sensitivity, params.base_utility)
    return logit_probabilities(v, cfg.outside_option_utility, cfg.noise_scale)


def advance_period_expected(
    params: MarketParams, state: MarketState, price_per_kwh: np.ndarray
) -> tuple[MarketState, PeriodOutcome]:
    """One pricing period of expected demand; ``price_per_kwh`` (B, N) posted prices."""
    s, n = params.substeps_per_period, params.n_stations
    j0 = state.period * s
    price = np.array(price_per_kwh, dtype=np.float64)
    elec = state.elec_price_per_kwh[:, params.substep_hour[j0 : j0 + s]]  # (B, S)
    arrivals_sub = params.expected_arrivals[j0 : j0 + s]  # (S,) expected EVs per sub-step
    shares = expected_shares(params, price)  # (B, N + 1)
    evs_sub = shares[:, :n, None] * arrivals_sub  # (B, N, S)
    energy_sub = evs_sub * params.delivered_kwh_per_ev[:, None]
    revenue_sub = energy_sub * price[..., None]
    energy_cost_sub, fixed, revenue_ema, cost_ema = account_period(params, state, elec, energy_sub, revenue_sub)
    new_state = MarketState(
        period=state.period + 1,
        price_per_kwh=price,
        slot_depart_s=state.slot_depart_s,
        slot_start_s=state.slot_start_s,
        slot_charge_end_s=state.slot_charge_end_s,
        slot_price_per_kwh=state.slot_price_per_kwh,
        revenue_ema_per_h=revenue_ema,
        cost_ema_per_h=cost_ema,
        elec_price_per_kwh=state.elec_price_per_kwh,
    )
    b = price.shape[0]
    revenue = revenue_sub.sum(axis=2)
    energy_cost = energy_cost_sub.sum(axis=2)
    total_arrivals = float(arrivals_sub.sum())
    cfg = params.config
    if not surplus_defined(cfg.driver_cost, cfg.outside_option_utility, cfg.price_sensitivity):
        surplus = np.full(b, np.nan)  # no outside option or no money value of utility: undefined
    else:  # the log-sum per arrival in money, and the energy not received refunded (evprice.market.welfare)
        v = systematic_utility(price, cfg.price_sensitivity, params.base_utility)
        per_driver = logit_surplus_per_driver(v, cfg.outside_option_utility, cfg.noise_scale)
        refund = (shares[:, :n] * price * (params.energy_mean_kwh - params.delivered_kwh_per_ev)).sum(axis=1)
        surplus = total_arrivals * (params.energy_mean_kwh / cfg.price_sensitivity * per_driver + refund)
    outcome = PeriodOutcome(
        price_per_kwh=price.copy(),
        energy_kwh=energy_sub.sum(axis=2),
        energy_kwh_per_substep=energy_sub,
        revenue=revenue,
        energy_cost=energy_cost,
        fixed_cost=fixed,
        admitted=evs_sub.sum(axis=2),
        blocked=np.zeros((b, n)),
        utilization=np.zeros((b, n)),
        arrivals=np.full(b, total_arrivals),
        gave_up=shares[:, n] * total_arrivals,
        waiting_h=np.zeros((b, n)),
        booked_profit=revenue - energy_cost - fixed,  # sessions are instantaneous
        consumer_surplus=surplus,
    )
    return new_state, outcome
