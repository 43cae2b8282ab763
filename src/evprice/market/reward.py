"""Rewards, one per station per pricing period, selected by ``MarketConfig.reward``.

Every reward is a profit divided by a revenue scale, so that it is dimensionless and
comparable across currencies and market sizes. The scale of station ``i`` is the most
revenue it could earn in one period,

    R_i = chargers_i x charger_power_kw_i x period_h x price_max_i,

so ``team``, ``individual`` and ``ema`` rewards are at most 1 (a station earning its
maximum revenue at no cost).

``team`` (default)
    ``sum_i profit_i / sum_i R_i``: the market's profit over the period, the same for
    every station (cooperative / joint-profit learning, MAPPO).
``individual``
    ``profit_i / R_i``: the station's own profit over the period (competition).
``period``
    ``booked_i / R_i``: the profit *booked by this pricing decision*: what the EVs that
    the station admitted during the period will pay over their whole sessions (up to the
    horizon), minus the energy they will cost and the period's fixed cost. It credits a
    price with the business it attracted, without the lag of sessions that started
    earlier at other prices. Summed over an episode it equals the ``individual`` sum
    whenever no session started in the episode is still charging at its end, so its mean
    is that of ``individual``; single values are lumpier, and exceed 1 when sessions last
    much longer than a period (a period books whole sessions).
``ema``
    ``profit_ema_i / (R_i / period_h)``: the station's profit-rate EMA after the period, a
    low-variance signal.

With ``objective="social_welfare"`` every station's reward is the period's social welfare,
consumer surplus plus booked profit (:mod:`evprice.market.welfare`), over ``sum_i R_i``.

Here "profit" is accrued profit: revenue minus wholesale energy cost minus fixed cost of
the energy actually delivered during the period.
"""

from __future__ import annotations

import numpy as np

from evprice.market.params import MarketParams
from evprice.market.profiles import SECONDS_PER_HOUR
from evprice.market.state import MarketState, PeriodOutcome


def compute_reward(params: MarketParams, outcome: PeriodOutcome, state: MarketState) -> np.ndarray:
    """(B, N) reward of each station for the period just run; ``state`` is the state after it."""
    scale = params.reward_scale_per_period  # (N,)
    if params.config.objective == "social_welfare":
        return every_station(outcome.social_welfare / params.team_reward_scale_per_period, params.n_stations)
    mode = params.config.reward
    if mode == "team":
        return every_station(outcome.profit.sum(axis=1) / params.team_reward_scale_per_period, params.n_stations)
    if mode == "individual":
        return outcome.profit / scale
    if mode == "period":
        return outcome.booked_profit / scale
    period_h = params.config.action_period_s / SECONDS_PER_HOUR
    return state.profit_ema_per_h / (scale / period_h)


def every_station(value: np.ndarray, n_stations: int) -> np.ndarray:
    """(B, N) with each member's ``value`` (B,) in every station's column."""
    out = np.empty((value.shape[0], n_stations))
    out[...] = value[:, None]
    return out
