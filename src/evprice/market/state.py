"""State, random draws and per-period outcome of the batched market.

All arrays have a leading batch axis ``B``. ``N`` stations, ``C`` charger slots per station
(padded to the largest station), ``S`` sub-steps per period, ``M`` the most arrivals any
batch member sees in the period, ``H`` hours in the episode's exogenous series.

Times are seconds since the start of the episode. A slot (a charger, or with
``when_full="queue"`` a place in the station's queue) holds at most one EV's session,
described by four numbers:

* ``slot_start_s``: when the EV gets a charger: its arrival, or later if it queued;
* ``slot_depart_s``: when its EV leaves, ``start + D``; the slot is free for an EV
  arriving at ``t`` iff this is ``<= t`` (0 for a slot never used, ``inf`` for padding);
* ``slot_charge_end_s``: when the EV stops drawing power, ``start + min(E / P, D)``;
* ``slot_price_per_kwh``: the price the EV locked in on arrival; it pays that price for
  every kWh of its session even if the station changes its price meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class MarketState:
    """Everything the dynamics need to continue an episode."""

    period: int  # pricing periods completed in this episode (shared by the batch)
    price_per_kwh: np.ndarray  # (B, N) price posted by each station
    slot_depart_s: np.ndarray  # (B, N, C) when each slot's EV leaves
    slot_start_s: np.ndarray  # (B, N, C) when each slot's EV gets a charger (seconds since episode start)
    slot_charge_end_s: np.ndarray  # (B, N, C) seconds since episode start
    slot_price_per_kwh: np.ndarray  # (B, N, C) price locked in by the slot's EV
    revenue_ema_per_h: np.ndarray  # (B, N) EMA of the revenue rate, currency/h
    cost_ema_per_h: np.ndarray  # (B, N) EMA of the energy + fixed cost rate, currency/h
    elec_price_per_kwh: np.ndarray  # (B, H) hourly wholesale price of this episode (exogenous)

    @property
    def batch_size(self) -> int:
        return self.price_per_kwh.shape[0]

    @property
    def profit_ema_per_h(self) -> np.ndarray:
        """(B, N) EMA of the profit rate. The EMA is linear, so it equals revenue EMA minus cost EMA."""
        return self.revenue_ema_per_h - self.cost_ema_per_h


@dataclass(frozen=True)
class PeriodDraws:
    """The random inputs of one pricing period, drawn before the dynamics run.

    Keeping them apart from the dynamics makes :func:`evprice.market.dynamics.advance_period`
    a pure function: tests, planners and common-random-number comparisons can replay a
    period exactly. Event ``m`` of batch member ``b`` is its ``m``-th arrival of the
    period in time order; events past a member's last arrival are padding, with
    ``arrival_offset_s = inf`` and zeros elsewhere.
    """

    arrival_offset_s: np.ndarray  # (B, M) arrival time after the period start, ascending; inf = padding
    choice_noise: np.ndarray  # (B, M, N + 1) utility noise; column N is the outside option
    dwell_s: np.ndarray  # (B, M) how long each arriving EV would stay
    energy_kwh: np.ndarray  # (B, M) how much energy it wants
    origin: np.ndarray  # (B, M) int, origin zone of each request (0 with one zone, and for padding)


@dataclass(frozen=True)
class PeriodOutcome:
    """What happened in one pricing period, per batch member and station."""

    price_per_kwh: np.ndarray  # (B, N) posted price in force during the period
    energy_kwh: np.ndarray  # (B, N) energy delivered to EVs
    energy_kwh_per_substep: np.ndarray  # (B, N, S) the same, by sub-step
    revenue: np.ndarray  # (B, N) sum over sessions of locked price x energy delivered
    energy_cost: np.ndarray  # (B, N) wholesale price x energy delivered / efficiency
    fixed_cost: np.ndarray  # (B, N) fixed cost of the period
    admitted: np.ndarray  # (B, N) int, EVs that plugged in
    blocked: np.ndarray  # (B, N) int, EVs that chose this station first and could not charge anywhere
    utilization: np.ndarray  # (B, N) fraction of charger-time occupied during the period
    arrivals: np.ndarray  # (B,) int, EVs that arrived in the market
    gave_up: np.ndarray  # (B,) int, EVs that took the outside option
    waiting_h: np.ndarray  # (B, N) total time the EVs admitted this period wait for a charger, hours
    booked_profit: (
        np.ndarray
    )  # (B, N) whole-session profit of the EVs admitted this period, minus the period's fixed cost
    consumer_surplus: np.ndarray  # (B,) surplus over the outside option of the EVs admitted this period,
    # currency (evprice.market.welfare); NaN where the market has no outside option

    @property
    def social_welfare(self) -> np.ndarray:
        """(B,) consumer surplus plus the stations' booked profit, currency (see :mod:`evprice.market.welfare`)."""
        return self.consumer_surplus + self.booked_profit.sum(axis=1)

    @cached_property
    def profit(self) -> np.ndarray:
        """(B, N) revenue minus energy cost minus fixed cost (worked out once per outcome: the
        reward and ``info`` both read it)."""
        return self.revenue - self.energy_cost - self.fixed_cost
