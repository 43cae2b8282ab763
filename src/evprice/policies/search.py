"""Search for the best fixed price of each station (a response-surface method).

The objective, the stations' mean total profit per episode, is estimated on simulated
episodes with common random numbers: every candidate faces exactly the same arrivals,
choices and sessions (``env.replicate(..., scenarios=E)``, so a coupled scenario keeps its
grid and roads).

Near its optimum that surface is flat compared with episode-to-episode noise, so the best
grid point is mostly luck: with 16 scenarios it picked ``(1.446, 1.356)`` CNY/kWh for two
identical stations of ``PublicCharging-v0``, 240 CNY a day in sample against 207 on fresh
seeds, where a symmetric 1.40 scores 210. Each round therefore fits a quadratic to all
the values by least squares (smoothing the noise across the candidates) and moves to its
maximum, then halves the box around it. Two stations or fewer: a full grid; more: a
random design of ``4 x`` as many points as the quadratic has coefficients, drawn from a
generator seeded by ``seed`` (a full grid would grow as ``points ** N``).

With a ``cost_limit`` (a coupled scenario's constraint cost per episode) the search keeps
to the candidates whose mean episode cost is within it: each round moves to the most
profitable feasible candidate (the least costly one while none is feasible), without the
quadratic smoothing, whose maximum may lie outside the feasible set. These are the best
*safe* fixed prices, the fair fixed-price rival of a constrained learner.
"""

from __future__ import annotations

import itertools

import numpy as np

from evprice.core.actions import unscale_action
from evprice.envs.market_env import MarketEnv


def team_profit_and_cost(
    env: MarketEnv, prices: np.ndarray, *, episodes: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean total profit and mean constraint cost per episode of each candidate, each (K,).

    Args:
        env: supplies the market (config, id, scenario).
        prices: (K, N) candidate fixed prices.

    The cost is the sum over the episode of ``info["cost"]`` (the same for every station);
    0 for a market without a cost.
    """
    k = len(prices)
    sim = env.replicate(k * episodes, scenarios=episodes)
    sim.reset(seed)
    # member k * E + e runs candidate k on scenario e
    actions = unscale_action(np.repeat(prices, episodes, axis=0), sim.params.price_min, sim.params.price_max)[..., None]
    profit = np.zeros(k * episodes)
    cost = np.zeros(k * episodes)
    for _ in range(sim.n_periods):
        _, _, _, _, info = sim.step(actions)
        profit += info["profit"].sum(axis=1)
        cost += info["cost"][:, 0]
    return profit.reshape(k, episodes).mean(axis=1), cost.reshape(k, episodes).mean(axis=1)


def team_profit(env: MarketEnv, prices: np.ndarray, *, episodes: int, seed: int) -> np.ndarray:
    """Mean total profit per episode of each candidate price vector (K, N): shape (K,)."""
    return team_profit_and_cost(env, prices, episodes=episodes, seed=seed)[0]


def _best_feasible(x: np.ndarray, profit: np.ndarray, cost: np.ndarray, limit: float) -> np.ndarray:
    """The most profitable candidate of ``x`` (K, d) whose cost is within ``limit``, else the least costly."""
    feasible = cost <= limit
    if feasible.any():
        return x[int(np.argmax(np.where(feasible, profit, -np.inf)))]
    return x[int(np.argmin(cost))]


def quadratic_argmax(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Maximum of the least-squares quadratic through points ``x`` (K, d) with values ``y`` (K,).

    Returns None when the fitted quadratic is not strictly concave (no interior maximum).
    """
    k, d = x.shape
    pairs = [(i, j) for i in range(d) for j in range(i, d)]
    features = np.column_stack([np.ones(k), x] + [x[:, i] * x[:, j] for i, j in pairs])
    w, *_ = np.linalg.lstsq(features, y, rcond=None)
    grad = w[1 : 1 + d]
    hess = np.zeros((d, d))
    for (i, j), wij in zip(pairs, w[1 + d :]):
        hess[i, j] += wij
        hess[j, i] += wij
    if not np.all(np.linalg.eigvalsh(hess) < 0):
        return None
    return np.linalg.solve(hess, -grad)


def _step_to_fit(x: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The fitted maximum inside ``[lo, hi]``, or the best evaluated point if there is none."""
    fit = quadratic_argmax(x, y)
    return x[int(np.argmax(y))] if fit is None else np.clip(fit, lo, hi)


def best_fixed_prices(
    env: MarketEnv,
    *,
    points: int = 11,
    rounds: int | None = None,
    episodes: int = 64,
    seed: int = 0,
    cost_limit: float | None = None,
) -> tuple[np.ndarray, float]:
    """The fixed prices (N,) maximising the stations' mean total profit per episode, and that profit.

    Args:
        points: grid points per station and round (at least 3), for two stations or fewer.
        rounds: box halvings; default 10 for expected demand (deterministic: the optimum is
            found to about 1e-6), 4 for a sampled market (where noise limits precision).
        episodes: scenarios per candidate (1 for expected demand, which is deterministic).
        seed: seed of the scenarios (and of the design points beyond two stations).
        cost_limit: if given, only prices whose mean constraint cost per episode is within it
            count (see the module docstring); the least costly prices found if none is.

    The profit returned is estimated on the same scenarios, so it is optimistic for a
    sampled market; evaluate the prices on other seeds for an unbiased figure.
    """
    deterministic = env.config.demand == "expected"
    rounds = (10 if deterministic else 4) if rounds is None else rounds
    if points < 3 or rounds < 1:
        raise ValueError(f"points={points} and rounds={rounds} are invalid: expected points >= 3 and rounds >= 1")
    if cost_limit is not None and not (np.isfinite(cost_limit) and cost_limit >= 0):
        raise ValueError(f"cost_limit={cost_limit!r} is invalid: expected a finite number >= 0 (cost per episode)")
    lo, hi = env.params.price_min.copy(), env.params.price_max.copy()
    episodes = 1 if deterministic else episodes
    n = env.n_stations
    design = np.random.default_rng(seed)  # explicit and seeded: only for the design points
    n_design = 4 * (1 + n + n * (n + 1) // 2)
    best = 0.5 * (lo + hi)
    box_lo, box_hi = lo.copy(), hi.copy()
    for _ in range(rounds):
        if n <= 2:
            axes = [np.linspace(box_lo[i], box_hi[i], points) for i in range(n)]
            candidates = np.array(list(itertools.product(*axes)))
        else:
            candidates = np.vstack([best, box_lo + design.random((n_design, n)) * (box_hi - box_lo)])
        if cost_limit is None:
            best = _step_to_fit(candidates, team_profit(env, candidates, episodes=episodes, seed=seed), box_lo, box_hi)
        else:
            profit, cost = team_profit_and_cost(env, candidates, episodes=episodes, seed=seed)
            best = _best_feasible(candidates, profit, cost, cost_limit)
        half = (box_hi - box_lo) / 4.0
        box_lo, box_hi = np.maximum(best - half, lo), np.minimum(best + half, hi)
    return best, float(team_profit(env, best[None], episodes=episodes, seed=seed)[0])
