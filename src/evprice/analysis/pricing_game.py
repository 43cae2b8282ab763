"""The repeated logit price game Q-learners play (:mod:`evprice.analysis.qlearning`): a
registered environment's price bounds split into a grid, the static logit market's expected
profits for every joint action as the payoff table, and its Nash and joint optimum.

State index convention: joint action ``(a_0, ..., a_{n-1})`` is state
``sum_i a_i m**(n-1-i)`` (station 0 most significant; ``a_0 m + a_1`` for two stations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evprice.core.config import ConfigError
from evprice.envs.registry import make_env
from evprice.market.theory import (
    LogitMarket,
    bertrand_nash,
    joint_optimum,
    logit_market,
    profits,
    static_market_caveats,
)

MAX_Q_ENTRIES_PER_SESSION = 50_000_000
"""Largest ``m**n * n * m`` (Q-table entries of one session) accepted: 400 MB of float64."""


@dataclass(frozen=True)
class PricingGame:
    """The stage game the learners repeat, and its static benchmarks.

    Attributes:
        price_grid: (n, m) the prices each station can post, currency/kWh.
        payoffs: (m**n, n) profit per period of each station for each joint action
            (indexed as in the module docstring), currency/period.
        nash_prices, nash_profits: (n,) the static Bertrand-Nash equilibrium (continuous prices).
        joint_prices, joint_profits: (n,) the joint-profit optimum (continuous prices).
        caveats: why the static market's expected profits may differ from the env's (empty when exact).
    """

    price_grid: np.ndarray
    payoffs: np.ndarray
    nash_prices: np.ndarray
    nash_profits: np.ndarray
    joint_prices: np.ndarray
    joint_profits: np.ndarray
    caveats: tuple[str, ...] = ()

    @property
    def n_stations(self) -> int:
        return self.price_grid.shape[0]

    @property
    def n_prices(self) -> int:
        return self.price_grid.shape[1]

    @property
    def n_states(self) -> int:
        return self.payoffs.shape[0]


def price_grid(price_min: np.ndarray, price_max: np.ndarray, n_prices: int) -> np.ndarray:
    """(n, m) ``n_prices`` evenly spaced prices from ``price_min`` to ``price_max`` (each (n,)), ends included."""
    lo, hi = np.atleast_1d(np.asarray(price_min, float)), np.atleast_1d(np.asarray(price_max, float))
    return np.linspace(lo, hi, n_prices, axis=1)


def joint_actions(n_prices: int, n_stations: int) -> np.ndarray:
    """(m**n, n) the price indices of every joint action, row ``k`` being state ``k``."""
    return np.indices((n_prices,) * n_stations).reshape(n_stations, -1).T


def joint_index(actions: np.ndarray, n_prices: int) -> np.ndarray:
    """(...,) the state index of joint actions (..., n) of price indices."""
    n = actions.shape[-1]
    weights = n_prices ** np.arange(n - 1, -1, -1)
    return actions @ weights


def payoff_table(market: LogitMarket, grid: np.ndarray) -> np.ndarray:
    """(m**n, n) profit per period of each station for every joint action on ``grid`` (n, m)."""
    n, m = grid.shape
    actions = joint_actions(m, n)
    prices = grid[np.arange(n), actions]  # (m**n, n)
    return profits(market, prices)


def make_game(n_prices: int, env_id: str = "LogitBertrand-v0", overrides: dict[str, Any] | None = None) -> PricingGame:
    """The stage game of ``env_id``: its price bounds split into ``n_prices`` points, its static
    logit market's expected profits as payoffs, and that market's Nash and joint optimum."""
    env = make_env(env_id, **(overrides or {}))
    n = env.params.n_stations
    entries = n_prices ** (n + 1) * n
    if entries > MAX_Q_ENTRIES_PER_SESSION:
        raise ConfigError(
            f"n_prices={n_prices} with {n} stations is invalid: a session's Q-table would hold {entries:,} values "
            f"(n_prices**(n_stations + 1) * n_stations); at most {MAX_Q_ENTRIES_PER_SESSION:,}"
        )
    market = logit_market(env.params)
    grid = price_grid(env.params.price_min, env.params.price_max, n_prices)
    nash, joint = bertrand_nash(market), joint_optimum(market)
    return PricingGame(
        price_grid=grid,
        payoffs=payoff_table(market, grid),
        nash_prices=nash.prices,
        nash_profits=nash.profits,
        joint_prices=joint.prices,
        joint_profits=joint.profits,
        caveats=tuple(static_market_caveats(env.params)),
    )
