"""Static price competition under multinomial-logit demand: the yardsticks for learned prices.

A logit market has ``N`` stations with qualities ``a_i``, marginal costs ``c_i`` and
posted prices ``p_i`` (currency/kWh), an outside option of quality ``a0`` and a price
scale ``mu``. Station ``i`` sells the share

    q_i = exp((a_i - p_i) / mu) / (sum_j exp((a_j - p_j) / mu) + exp(a0 / mu))

of a period's demand ``Q_i`` (kWh if every driver bought there), and earns
``pi_i = Q_i (p_i - c_i) q_i`` per period. (The algorithmic-collusion literature uses
``Q_i = 1``.)

Solvers, all pure functions of the market:

* :func:`best_responses` / :func:`best_response`: closed form through the Lambert W
  function. The first-order condition ``p - c = mu / (1 - q)`` gives
  ``p = c + mu (1 + W(exp((a - c)/mu - 1) / K))``, with ``K`` the others' logit weights
  plus the outside option's.
* :func:`bertrand_nash`: best-response iteration (Gauss-Seidel) to the unique equilibrium.
* :func:`joint_optimum`: the prices maximising total profit. With equal ``Q_i`` every
  markup is the same, ``m = mu (1 + W(sum_j exp((a_j - c_j)/mu) / (e exp(a0/mu))))``;
  otherwise a numerical optimisation started there.
* :func:`stackelberg`: one leader, followers playing Nash among themselves given its price.
* :func:`erlang_b`, :func:`capacity_nash`, :func:`capacity_joint_optimum`: profit counts
  only admitted EVs, each station a loss system with Erlang-B blocking of its offered
  load.
* :func:`profit_gain`: ``Delta = (pi - pi_Nash) / (pi_joint - pi_Nash)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special

from evprice.market.choice import logit_probabilities
from evprice.market.params import MarketParams
from evprice.market.profiles import SECONDS_PER_HOUR


@dataclass(frozen=True)
class LogitMarket:
    """A static logit price-competition market.

    Attributes:
        a: (N,) quality of each station, currency/kWh.
        c: (N,) marginal cost of each station, currency/kWh.
        mu: price scale (logit noise), currency/kWh, > 0.
        a0: quality of the outside option, or None for no outside option.
        quantity: (N,) demand per period if every driver bought at the station, kWh
            (default 1, the literature's normalisation).
    """

    a: np.ndarray
    c: np.ndarray
    mu: float
    a0: float | None = 0.0
    quantity: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        a = np.atleast_1d(np.asarray(self.a, dtype=np.float64))
        c = np.broadcast_to(np.asarray(self.c, dtype=np.float64), a.shape).copy()
        q = (
            np.ones_like(a)
            if self.quantity is None
            else np.broadcast_to(np.asarray(self.quantity, float), a.shape).copy()
        )
        if not (np.isfinite(a).all() and np.isfinite(c).all()):
            raise ValueError(f"a={a.tolist()} and c={c.tolist()} must be finite")
        if not (np.isfinite(self.mu) and self.mu > 0):
            raise ValueError(f"mu={self.mu!r} is invalid: expected a finite number > 0")
        if (q <= 0).any() or not np.isfinite(q).all():
            raise ValueError(f"quantity={q.tolist()} is invalid: expected finite numbers > 0")
        if self.a0 is None and len(a) < 2:
            raise ValueError("a single station without an outside option has no finite best price")
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "quantity", q)
        object.__setattr__(self, "mu", float(self.mu))

    @property
    def n(self) -> int:
        return len(self.a)

    def _outside_log_weight(self) -> float:
        return -np.inf if self.a0 is None else self.a0 / self.mu


@dataclass(frozen=True)
class Solution:
    """Prices and what they earn. All arrays (N,); ``outside_share`` is the outside option's."""

    prices: np.ndarray
    shares: np.ndarray
    profits: np.ndarray
    outside_share: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "prices": self.prices.tolist(),
            "shares": self.shares.tolist(),
            "profits": self.profits.tolist(),
            "outside_share": self.outside_share,
        }


# -- demand ---------------------------------------------------------------------------
def shares(market: LogitMarket, prices: np.ndarray) -> np.ndarray:
    """(..., N + 1) logit shares of each station, then of the outside option.

    The driver-choice model of :mod:`evprice.market.choice` in price units: systematic
    utility ``a - p``, outside option ``a0``, Gumbel scale ``mu``.
    """
    return logit_probabilities(market.a - np.asarray(prices, dtype=np.float64), market.a0, market.mu)


def profits(market: LogitMarket, prices: np.ndarray) -> np.ndarray:
    """(..., N) profit per period of each station."""
    p = np.asarray(prices, dtype=np.float64)
    return market.quantity * (p - market.c) * shares(market, p)[..., : market.n]


def solution(market: LogitMarket, prices: np.ndarray) -> Solution:
    p = np.asarray(prices, dtype=np.float64)
    s = shares(market, p)
    return Solution(prices=p, shares=s[: market.n], profits=profits(market, p), outside_share=float(s[market.n]))


def lambertw_exp(z: np.ndarray | float) -> np.ndarray:
    """``W(exp(z))``, the principal Lambert W of ``e^z``, for any real ``z`` without overflow.

    For ``z < -30``, ``W(e^z) = e^z (1 - e^z + ...)``, so ``e^z`` is exact to double
    precision (and underflows gracefully to 0). Otherwise it solves ``y + ln y = z`` by
    Newton's method from scipy's W (moderate ``z``) or ``z - ln z`` (large ``z``).
    """
    z = np.asarray(z, dtype=np.float64)
    small = z < -30.0
    zz = np.clip(z, -30.0, None)
    y = np.where(zz < 500.0, special.lambertw(np.exp(np.minimum(zz, 500.0))).real, zz - np.log(np.maximum(zz, 1.0)))
    for _ in range(4):
        y = y - (y + np.log(y) - zz) / (1.0 + 1.0 / y)
    return np.where(small, np.exp(np.minimum(z, -30.0)), y)


def best_responses(market: LogitMarket, prices: np.ndarray, costs: np.ndarray | None = None) -> np.ndarray:
    """Every station's profit-maximising price given the others' ``prices`` (..., N).

    Station ``i``'s own entry of ``prices`` is ignored. ``costs`` (..., N) replaces the
    market's marginal costs (a cost that changes with time, as the wholesale price does).

    The first-order condition ``p - c = mu / (1 - q)`` has the closed form
    ``p = c + mu (1 + W(exp((a - c)/mu - 1) / K))`` with ``K`` the other stations' logit
    weights plus the outside option's; everything is computed in logs.
    """
    p = np.asarray(prices, dtype=np.float64)
    c = market.c if costs is None else np.asarray(costs, dtype=np.float64)
    v = (market.a - p) / market.mu  # (..., N) log weights
    n = market.n
    others = np.where(np.eye(n, dtype=bool), -np.inf, v[..., None, :])  # (..., N, N): row i masks station i
    outside = np.broadcast_to(market._outside_log_weight(), v.shape + (1,))
    log_k = special.logsumexp(np.concatenate([others, outside], axis=-1), axis=-1)  # (..., N)
    z = (market.a - c) / market.mu - 1.0 - log_k
    return c + market.mu * (1.0 + lambertw_exp(z))


def best_response(market: LogitMarket, prices: np.ndarray, i: int) -> float:
    """Station ``i``'s profit-maximising price given the others' ``prices`` (its own is ignored)."""
    return float(best_responses(market, prices)[i])


# -- equilibria -----------------------------------------------------------------------
def _best_response_iteration(prices: np.ndarray, players: list[int], br, tol: float, max_iter: int) -> np.ndarray:
    """Gauss-Seidel: each player in turn moves to ``br(prices, i)`` until no price moves by
    more than ``tol`` relative to its size (``tol * max(1, |p|)``)."""
    p = np.array(prices, dtype=np.float64)
    change = np.inf
    for _ in range(max_iter):
        change = 0.0
        for i in players:
            new = br(p, i)
            if not np.isfinite(new):
                raise RuntimeError(f"best response of station {i} is not finite ({new}) at prices {p.tolist()}")
            change = max(change, abs(new - p[i]) / max(1.0, abs(new)))
            p[i] = new
        if change < tol:
            return p
    raise RuntimeError(
        f"best-response iteration did not converge in {max_iter} rounds (last relative change {change:.2e})"
    )


def bertrand_nash(
    market: LogitMarket, *, fixed: dict[int, float] | None = None, tol: float = 1e-13, max_iter: int = 100_000
) -> Solution:
    """The Bertrand-Nash equilibrium (stations in ``fixed`` keep the given prices)."""
    fixed = fixed or {}
    p = market.c + market.mu
    for i, price in fixed.items():
        p[i] = price
    players = [i for i in range(market.n) if i not in fixed]
    br = lambda prices, i: best_response(market, prices, i)  # noqa: E731
    return solution(market, _best_response_iteration(p, players, br, tol, max_iter))


def joint_optimum(market: LogitMarket) -> Solution:
    """The prices that maximise the stations' total profit (a multi-station monopoly)."""
    if market.a0 is None:
        raise ValueError("without an outside option total profit grows without bound: the joint optimum needs a0")
    z = special.logsumexp((market.a - market.c) / market.mu) - market.a0 / market.mu - 1.0
    markup = market.mu * (1.0 + float(lambertw_exp(z)))
    p = market.c + markup
    if np.ptp(market.quantity) > 0:
        # unequal quantities: equal markups are only a start. A station whose customers buy
        # little may be worth shutting (its price going to infinity, to send its customers
        # to the others): the search stops at c + 100 mu + markup, which then means "shut".
        upper = market.c + 100.0 * market.mu + markup
        res = optimize.minimize(
            lambda x: -profits(market, x).sum() / market.quantity.mean(),
            p,
            method="L-BFGS-B",
            bounds=list(zip(market.c, upper)),
            options={"ftol": 1e-15, "gtol": 1e-12},
        )
        p = res.x
    return solution(market, p)


def stackelberg(market: LogitMarket, leader: int = 0) -> Solution:
    """Leader ``leader`` sets its price first; the followers then play Nash among themselves.

    The leader's price maximises its profit given the followers' equilibrium response,
    found by a grid over ``[c_L, c_L + 20 mu + joint markup]`` refined by bounded Brent.
    """
    if not 0 <= leader < market.n:
        raise ValueError(f"leader={leader!r} is invalid: expected a station index in [0, {market.n - 1}]")

    def outcome(price: float) -> Solution:
        return bertrand_nash(market, fixed={leader: price}, tol=1e-12)

    def leader_loss(price: float) -> float:
        return -float(outcome(price).profits[leader])

    hi = market.c[leader] + 20.0 * market.mu
    if market.a0 is not None:
        hi = max(hi, float(joint_optimum(market).prices[leader]) + 5.0 * market.mu)
    for _ in range(30):  # widen while the best grid point is the upper edge
        grid = np.linspace(market.c[leader], hi, 201)
        values = [leader_loss(x) for x in grid]
        k = int(np.argmin(values))
        if k < len(grid) - 1:
            break
        hi = market.c[leader] + 2.0 * (hi - market.c[leader])
    else:
        raise RuntimeError("the Stackelberg leader's profit keeps growing with its price: no finite optimum")
    lo_b, hi_b = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(leader_loss, bounds=(lo_b, hi_b), method="bounded", options={"xatol": 1e-12})
    return outcome(float(res.x))


def profit_gain(profit: np.ndarray | float, nash_profit: np.ndarray | float, joint_profit: np.ndarray | float):
    """``Delta = (profit - Nash profit) / (joint profit - Nash profit)``: 0 at Nash, 1 at the joint optimum."""
    return (np.asarray(profit) - nash_profit) / (np.asarray(joint_profit) - nash_profit)


# -- capacity --------------------------------------------------------------------------
def erlang_b(servers: np.ndarray | int, load: np.ndarray | float) -> np.ndarray:
    """Erlang's loss formula ``B(c, A)`` (blocking of an M/G/c/c queue), elementwise.

    Uses the stable recursion ``B(0, A) = 1``, ``B(k, A) = A B(k-1, A) / (k + A B(k-1, A))``.
    """
    c, a = np.broadcast_arrays(np.asarray(servers, dtype=np.int64), np.asarray(load, dtype=np.float64))
    if (c < 0).any() or (a < 0).any():
        raise ValueError("erlang_b needs servers >= 0 and load >= 0")
    b = np.ones(c.shape)
    for k in range(1, int(c.max(initial=0)) + 1):
        step = a * b / (k + a * b)
        b = np.where(k <= c, step, b)
    return b


@dataclass(frozen=True)
class CapacityMarket:
    """A logit market whose stations are loss systems.

    Drivers arrive at ``arrivals_per_period`` (EVs a period), choose by logit, and are
    lost if the chosen station is full; each station has ``chargers`` chargers held for a
    mean ``dwell_periods`` periods, so its offered load is
    ``arrivals_per_period q_i dwell_periods`` Erlang. An admitted EV buys ``kwh_per_ev``.
    """

    logit: LogitMarket
    arrivals_per_period: float
    dwell_periods: float
    chargers: np.ndarray
    kwh_per_ev: np.ndarray

    def admitted(self, prices: np.ndarray) -> np.ndarray:
        """(..., N) admitted EVs per period."""
        q = shares(self.logit, prices)[..., : self.logit.n]
        offered = self.arrivals_per_period * q
        return offered * (1.0 - erlang_b(self.chargers, offered * self.dwell_periods))

    def profits(self, prices: np.ndarray) -> np.ndarray:
        """(..., N) profit per period of the admitted EVs."""
        p = np.asarray(prices, dtype=np.float64)
        return (p - self.logit.c) * self.kwh_per_ev * self.admitted(p)

    def solution(self, prices: np.ndarray) -> Solution:
        p = np.asarray(prices, dtype=np.float64)
        s = shares(self.logit, p)
        return Solution(p, s[: self.logit.n], self.profits(p), float(s[self.logit.n]))


def _capacity_best_response(cm: CapacityMarket, prices: np.ndarray, i: int) -> float:
    m = cm.logit

    def own_profit(x: np.ndarray) -> np.ndarray:
        p = np.repeat(prices[None, :], np.size(x), axis=0)
        p[:, i] = x
        return cm.profits(p)[:, i]

    # without capacity the best response is the Lambert-W price; scarcity can only raise it
    grid = np.linspace(m.c[i], best_response(m, prices, i) + 20.0 * m.mu, 401)
    k = int(np.argmax(own_profit(grid)))
    res = optimize.minimize_scalar(
        lambda x: -float(own_profit(np.array([x]))[0]),
        bounds=(grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return float(res.x)


def capacity_nash(cm: CapacityMarket, *, tol: float = 1e-10, max_iter: int = 2_000) -> Solution:
    """Nash equilibrium when profit counts only admitted EVs (numerical best responses)."""
    start = bertrand_nash(cm.logit).prices
    br = lambda prices, i: _capacity_best_response(cm, prices, i)  # noqa: E731
    return cm.solution(_best_response_iteration(start, list(range(cm.logit.n)), br, tol, max_iter))


def capacity_joint_optimum(cm: CapacityMarket) -> Solution:
    """Prices maximising the total profit of admitted EVs (numerical, from several starts)."""
    scale = float(np.abs(cm.profits(cm.logit.c + cm.logit.mu)).sum()) or 1.0
    starts = [bertrand_nash(cm.logit).prices, capacity_nash(cm).prices]
    if cm.logit.a0 is not None:
        starts.append(joint_optimum(cm.logit).prices)
    best = None
    for x0 in starts:
        res = optimize.minimize(
            lambda x: -cm.profits(x).sum() / scale,
            x0,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20_000},
        )
        if best is None or res.fun < best.fun:
            best = res
    return cm.solution(best.x)


# -- the static market of a simulated one ----------------------------------------------
def logit_market(params: MarketParams) -> LogitMarket:
    """The static logit market of a simulated market (``MarketParams``).

    Utilities are divided by ``price_sensitivity`` so that they are in currency/kWh:
    ``a_i = (station_utility_i - travel_i) / beta``, ``mu = noise_scale / beta``,
    ``a0 = outside_option_utility / beta``. The marginal cost is the cost of a delivered
    kWh averaged over the episode with the arrival rate as weight (what a constant price
    faces on average), and ``quantity_i`` is the mean arrivals per period times the mean
    energy an EV receives there. Congestion and blocking are left out: for
    ``demand="expected"`` (where congestion must be 0) the static market is exact; for the
    sampled market it is the uncapacitated approximation (see :func:`capacity_market`).
    """
    cfg = params.config
    if cfg.driver_cost != "utility" or cfg.n_origins > 1:
        raise ValueError(
            f"driver_cost={cfg.driver_cost!r} with {cfg.n_origins} origin zone(s): the static logit theory "
            "covers the utility model with one zone (generalised-cost drivers on a road network have "
            "energy- and origin-specific utilities and queues); no Nash / joint / Stackelberg benchmark here"
        )
    if cfg.noise != "gumbel":
        raise ValueError(f"noise={cfg.noise!r}: the logit theory needs Gumbel noise")
    if cfg.price_sensitivity <= 0:
        raise ValueError("price_sensitivity=0: with no price response there is no price competition")
    beta = cfg.price_sensitivity
    cost = params.arrival_weighted_elec_price_per_kwh() / cfg.charging_efficiency + params.marginal_cost_per_kwh
    arrivals_per_period = float(params.expected_arrivals.sum()) / params.n_periods
    return LogitMarket(
        a=params.base_utility / beta,
        c=cost,
        mu=cfg.noise_scale / beta,
        a0=None if cfg.outside_option_utility is None else cfg.outside_option_utility / beta,
        quantity=np.maximum(arrivals_per_period * params.delivered_kwh_per_ev, 1e-300),
    )


def capacity_market(params: MarketParams) -> CapacityMarket:
    """The static market of ``params`` with each station a loss system (Erlang-B blocking).

    Drivers choose by logit and a blocked driver is lost (``when_full="block"`` with choice
    blind to occupancy); the offered load of station ``i`` is the mean arrivals per period
    times ``q_i`` times the mean dwell in periods.
    """
    cfg = params.config
    market = logit_market(params)
    period_h = cfg.action_period_s / SECONDS_PER_HOUR
    return CapacityMarket(
        logit=LogitMarket(market.a, market.c, market.mu, market.a0),
        arrivals_per_period=float(params.expected_arrivals.sum()) / params.n_periods,
        dwell_periods=cfg.dwell_time_mean_h / period_h,
        chargers=params.capacity.copy(),
        kwh_per_ev=params.delivered_kwh_per_ev.copy(),
    )


EXACTNESS_TOLERANCE = 1e-3
"""Largest blocking probability, and largest share of an episode an EV spends charging, for
which a sampled market's static model counts as exact (its bias is below about 0.1%)."""


def static_market_caveats(params: MarketParams) -> list[str]:
    """Why :func:`logit_market` is not exactly the market's expected behaviour under constant
    prices (empty when it is).

    Expected demand is exact. A sampled market is exact when choice ignores occupancy
    (``congestion_sensitivity = 0``), when blocking is negligible at the Nash and joint
    prices even in the busiest hour (Erlang-B below ``EXACTNESS_TOLERANCE``), and when
    charging is short against the episode (else the horizon cuts sessions off).
    """
    cfg = params.config
    if cfg.driver_cost != "utility" or cfg.n_origins > 1:
        return [
            f"driver_cost={cfg.driver_cost!r} with {cfg.n_origins} origin zone(s): no static logit market describes "
            "these drivers"
        ]
    if cfg.n_stations == 1 and cfg.outside_option_utility is None:
        return ["a single station without an outside option has no finite best price: no static benchmark"]
    if cfg.demand == "expected":
        return []
    notes = []
    if cfg.congestion_sensitivity != 0.0:
        notes.append(f"congestion_sensitivity={cfg.congestion_sensitivity:g}: the congestion term is left out")
    charging_h = params.delivered_kwh_per_ev / params.power_kw
    if (charging_h > EXACTNESS_TOLERANCE * cfg.horizon_h).any():
        notes.append(
            f"charging lasts {charging_h.max():.2f} h on average against a {cfg.horizon_h:g} h episode: sessions "
            "cut off by the horizon are counted whole"
        )
    market = logit_market(params)
    busiest_per_h = cfg.arrival_rates_per_h().max()
    prices = [bertrand_nash(market).prices] + ([] if market.a0 is None else [joint_optimum(market).prices])
    worst = max(
        float(erlang_b(params.capacity, busiest_per_h * shares(market, p)[: market.n] * cfg.dwell_time_mean_h).max())
        for p in prices
    )
    if worst > EXACTNESS_TOLERANCE:
        notes.append(
            f"by Erlang-B up to {worst:.1%} of drivers would be blocked in the busiest hour at the Nash or joint "
            "prices: the uncapacitated benchmarks ignore blocking; the capacity-aware ones use Erlang-B at the mean "
            "arrival rate with choice blind to occupancy"
        )
    return notes


def static_market_is_exact(params: MarketParams) -> bool:
    """Whether :func:`logit_market` is exactly the market's expected behaviour (no caveats)."""
    return not static_market_caveats(params)
