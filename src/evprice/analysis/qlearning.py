"""Tabular Q-learning in a repeated logit price game: the algorithmic-collusion experiment.

Calvano, Calzolari, Denicolò & Pastorello (2020, AER, "Artificial Intelligence, Algorithmic
Pricing, and Collusion") let ``n`` independent Q-learners set prices on a grid of ``m``
points, period after period, in the logit market of :mod:`evprice.market.theory`. Each
learner's state is last period's joint price indices (one-period memory, ``m**n`` states);
its payoff is its profit. They find that the learners end up well above the static
Bertrand-Nash profit (an average profit gain ``Delta`` of about 0.85 at their baseline)
and sustain it with reward-punishment strategies.

This module runs many independent *sessions* at once: every array has a leading session
axis ``S`` and a single Python loop walks over periods (never over sessions). Each period,
in every running session:

1. agent ``i`` explores with probability ``eps_t = exp(-beta t)`` (``t`` = 0, 1, ... the
   period) and then plays a uniformly drawn price, else its greedy price
   ``argmax_a Q_i[s, a]``;
2. the joint action ``a`` earns ``pi_i(a)`` from a payoff table and becomes the next
   state ``s' = a``;
3. ``Q_i[s, a_i] <- (1 - alpha) Q_i[s, a_i] + alpha (pi_i(a) + delta max_b Q_i[s', b])``.

Only the row ``Q_i[s]`` changes, so a session's strategy changes only if the argmax of
that row does. A session has *converged* once no agent's greedy action in any state has
changed for ``convergence_periods`` consecutive periods, and stops there.

Randomness: session ``k`` draws from its own stream, child ``k`` of
``SeedSequence(seed)``: its initial state first, then one uniform ``u`` per agent and
period, used twice: the agent explores if ``u < eps_t`` and then plays price index
``floor(m u / eps_t)`` (given ``u < eps_t``, ``u / eps_t`` is uniform on [0, 1)). A session's
trajectory is therefore a function of ``(seed, k)`` and the settings alone, bit for bit,
whatever the number of sessions run beside it and the block size of the draws.

State index convention: joint action ``(a_0, ..., a_{n-1})`` is state
``sum_i a_i m**(n-1-i)`` (station 0 most significant; ``a_0 m + a_1`` for two stations).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from evprice.analysis.pricing_game import PricingGame, joint_actions, joint_index, make_game
from evprice.analysis.rollouts import ci95
from evprice.core.config import check_int, invalid
from evprice.core.declared import ConfigMixin, config_field, integer, number
from evprice.market.theory import (
    profit_gain,
)

BLOCK_PERIODS = 10_000
"""Periods of exploration draws made at once (per session); results do not depend on it."""

_f = config_field


@dataclass(frozen=True)
class QLearningConfig(ConfigMixin):
    """Settings of the Q-learning collusion experiment (defaults: Calvano et al.'s baseline)."""

    CONFIG_NAME = "QLearningConfig"

    n_prices: int = _f(
        15,
        "1",
        "price points per station, evenly spaced on [price_min, price_max] of the env, >= 2",
        integer(2, 10_000, reason="the Q-table holds n_prices ** n_stations states"),
    )
    discount: float = _f(
        0.95,
        "1",
        "discount factor delta per period, in [0, 1)",
        number(0.0, 1.0, high_open=True, reason="the initial Q-values divide by 1 - delta"),
    )
    learning_rate: float = _f(0.15, "1", "Q-learning step alpha, in (0, 1]", number(0.0, 1.0, low_open=True))
    beta: float = _f(4e-6, "1/period", "exploration decay: eps_t = exp(-beta t) at period t, >= 0", number(0.0))
    convergence_periods: int = _f(
        100_000,
        "period",
        "converged once no greedy action in any state has changed for this many periods",
        integer(1),
    )
    max_periods: int = _f(
        5_000_000,
        "period",
        "cap: a session still changing its strategy after this many periods is not converged",
        integer(1, 10**12),
    )
    memory: int = _f(1, "period", "periods of past prices in the state (only 1 is implemented)")

    def __post_init__(self) -> None:
        self.check_declared()
        if isinstance(self.memory, bool) or self.memory != 1:
            raise invalid("memory", self.memory, "1 (the state is last period's prices; longer memory is not built)")
        object.__setattr__(self, "memory", 1)


def initial_q(payoffs: np.ndarray, n_prices: int, discount: float) -> np.ndarray:
    """(n, m) Calvano's initial Q-values, the same in every state: the discounted value of
    each own price against opponents who price uniformly at random,
    ``Q_i0(a_i) = sum_{a_-i} pi_i(a_i, a_-i) / ((1 - delta) m**(n-1))``."""
    n = payoffs.shape[1]
    table = payoffs.reshape((n_prices,) * n + (n,))
    return np.stack(
        [table[..., i].mean(axis=tuple(j for j in range(n) if j != i)) / (1.0 - discount) for i in range(n)]
    )


def exploration_probability(periods: np.ndarray | int, beta: float) -> np.ndarray:
    """``eps_t = exp(-beta t)`` for periods ``t`` (any shape)."""
    return np.exp(-beta * np.asarray(periods, dtype=np.float64))


def exploration_actions(u: np.ndarray, eps: np.ndarray, n_prices: int) -> np.ndarray:
    """(T, S, n) explored price index, or -1 where the agent exploits.

    ``u`` (T, S, n) uniforms on [0, 1), ``eps`` (T,) exploration probabilities: explore when
    ``u < eps_t``, then play ``floor(m u / eps_t)``, uniform on the ``m`` prices.
    """
    explore = u < eps[:, None, None]
    share = np.divide(u, eps[:, None, None], out=np.zeros_like(u), where=explore)  # uniform on [0, 1)
    explored = np.minimum((share * n_prices).astype(np.intp), n_prices - 1)
    return np.where(explore, explored, -1)


# -- one period ------------------------------------------------------------------------
@dataclass(frozen=True)
class QTables:
    """The learners' Q-values in ``S`` sessions, with caches of each row's argmax and max.

    Attributes:
        q: (S, m**n, n, m) ``Q_i[s, a]`` of session ``k`` at ``q[k, s, i, a]``, currency.
        greedy: (S, m**n, n) int ``argmax_a Q_i[s, a]`` (the first maximum on ties, as ``np.argmax``).
        value: (S, m**n, n) ``max_a Q_i[s, a]``, currency.

    The arrays are updated in place by :func:`q_step`; :meth:`select` copies a subset of sessions.
    """

    q: np.ndarray
    greedy: np.ndarray
    value: np.ndarray

    @classmethod
    def start(cls, q0: np.ndarray, n_sessions: int, n_states: int) -> QTables:
        """Every session and state starting from ``q0`` (n, m) (see :func:`initial_q`)."""
        q = np.empty((n_sessions, n_states) + q0.shape)
        q[:] = q0
        return cls.of(q)

    @classmethod
    def of(cls, q: np.ndarray) -> QTables:
        """Tables holding (a C-contiguous copy of) ``q`` (S, m**n, n, m) and its argmax and max."""
        q = np.array(q, dtype=np.float64, order="C")
        greedy = q.argmax(axis=-1)
        return cls(q=q, greedy=greedy, value=np.take_along_axis(q, greedy[..., None], axis=-1)[..., 0])

    def select(self, keep: np.ndarray) -> QTables:
        """The sessions where ``keep`` (S,) is True (copies)."""
        return QTables(q=self.q[keep], greedy=self.greedy[keep], value=self.value[keep])


@functools.lru_cache(maxsize=64)
def _row_offsets(n_sessions: int, n_states: int, n: int) -> np.ndarray:
    """(S, n) flat row of ``(k, state 0, i)`` in an (S, m**n, n, ...) array (read-only, cached)."""
    rows = (np.arange(n_sessions) * (n_states * n))[:, None] + np.arange(n)
    rows.setflags(write=False)
    return rows


def q_step(
    tables: QTables,
    state: np.ndarray,
    explored: np.ndarray,
    payoffs: np.ndarray,
    learning_rate: float,
    discount: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One period of Q-learning in every session, in place.

    Each agent plays ``explored[k, i]`` where it is >= 0 and its greedy price otherwise; the
    joint action ``a`` pays ``payoffs[a]`` and becomes the next state ``s'``; then
    ``Q_i[s, a_i] <- (1 - alpha) Q_i[s, a_i] + alpha (pi_i(a) + delta max_b Q_i[s', b])``
    (the max taken before the update) and the argmax / max caches of row ``Q_i[s]`` follow.

    Args:
        tables: the sessions' Q-tables (S sessions), updated in place.
        state: (S,) int, the state each session is in.
        explored: (S, n) int, the explored price index of each agent, or -1 to play greedily.
        payoffs: (m**n, n) the payoff table.
        learning_rate, discount: alpha and delta.

    Returns:
        next_state (S,) int, and changed (S,) bool: whether any agent's greedy price in ``state`` changed.
    """
    n_sessions, n_states, n, m = tables.q.shape
    rows_of = _row_offsets(n_sessions, n_states, n)
    greedy, value, q = tables.greedy.reshape(-1), tables.value.reshape(-1), tables.q.reshape(-1)
    rows = rows_of + state[:, None] * n  # (S, n) flat row of Q_i[s]
    old = greedy[rows]
    actions = np.where(explored >= 0, explored, old)
    next_state = joint_index(actions, m)
    cell = rows * m + actions
    target = payoffs[next_state] + discount * value[rows_of + next_state[:, None] * n]
    q[cell] = (1.0 - learning_rate) * q[cell] + learning_rate * target
    new = tables.q.reshape(-1, m)[rows].argmax(axis=-1)
    greedy[rows] = new
    value[rows] = q[rows * m + new]
    return next_state, (new != old).any(axis=1)


# -- outcome ---------------------------------------------------------------------------
def greedy_cycle(strategies: np.ndarray, start_state: int, n_prices: int) -> np.ndarray:
    """(L,) the states of the cycle reached by greedy play from ``start_state``.

    ``strategies`` (m**n, n) is each agent's price index in each state; play is
    deterministic (``s' = joint(strategies[s])``), so it enters a cycle within ``m**n`` periods.
    Each state of the cycle is also the joint action played in it.
    """
    successor = joint_index(strategies, n_prices)
    seen: dict[int, int] = {}
    path: list[int] = []
    s = int(start_state)
    while s not in seen:
        seen[s] = len(path)
        path.append(s)
        s = int(successor[s])
    return np.array(path[seen[s] :], dtype=np.intp)


def cycle_outcome(game: PricingGame, strategies: np.ndarray, start_state: int) -> tuple[int, np.ndarray, np.ndarray]:
    """Length, mean profit (n,) and mean prices (n,) of the greedy cycle from ``start_state``."""
    cycle = greedy_cycle(strategies, start_state, game.n_prices)
    actions = joint_actions(game.n_prices, game.n_stations)[cycle]  # (L, n)
    prices = game.price_grid[np.arange(game.n_stations), actions]
    return len(cycle), game.payoffs[cycle].mean(axis=0), prices.mean(axis=0)


def session_delta(game: PricingGame, cycle_profit: np.ndarray) -> np.ndarray:
    """(...,) mean over agents of each one's profit gain ``(pi - pi_N) / (pi_M - pi_N)``; cycle_profit (..., n)."""
    return profit_gain(cycle_profit, game.nash_profits, game.joint_profits).mean(axis=-1)


# -- sessions --------------------------------------------------------------------------
@dataclass(frozen=True)
class QLearningResult:
    """What ``S`` sessions learned.

    Attributes:
        game: the stage game (price grid, payoffs, Nash and joint benchmarks).
        config: the settings.
        seed: the root seed (session ``k`` uses child ``k`` of ``SeedSequence(seed)``).
        converged: (S,) bool, the session met the convergence rule before ``max_periods``.
        periods: (S,) int, periods played (at convergence, or ``max_periods``).
        final_state: (S,) int, the state after the last period.
        strategies: (S, m**n, n) int, the final greedy price index of each agent in each state.
        delta: (S,) profit gain of the greedy cycle from ``final_state`` (mean over agents).
        cycle_length: (S,) int, periods in that cycle (1 = a constant price pair).
        cycle_profit: (S, n) mean profit per period over the cycle, currency/period.
        cycle_prices: (S, n) mean price over the cycle, currency/kWh.
    """

    game: PricingGame
    config: QLearningConfig
    seed: int
    env_id: str
    overrides: dict[str, Any]
    converged: np.ndarray
    periods: np.ndarray
    final_state: np.ndarray
    strategies: np.ndarray
    delta: np.ndarray
    cycle_length: np.ndarray
    cycle_profit: np.ndarray
    cycle_prices: np.ndarray

    @property
    def n_sessions(self) -> int:
        return len(self.delta)


def session_streams(seed: int, n_sessions: int) -> list[np.random.Generator]:
    """One generator per session: child ``k`` of ``SeedSequence(seed)`` for session ``k``."""
    return [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(n_sessions)]


def learn(
    game: PricingGame,
    config: QLearningConfig,
    rngs: list[np.random.Generator],
    on_block: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run ``S = len(rngs)`` sessions until each converges or reaches ``max_periods``.

    ``on_block(periods, running)`` is called after each block of periods (for progress):
    the periods run so far and the sessions not yet converged.

    Returns converged (S,) bool, periods (S,) int, final_state (S,) int and strategies
    (S, m**n, n) int, in the order of ``rngs``.
    """
    n_sessions, n, m, n_states = len(rngs), game.n_stations, game.n_prices, game.n_states
    cfg = config
    converged = np.zeros(n_sessions, bool)
    periods = np.full(n_sessions, cfg.max_periods, dtype=np.int64)
    final_state = np.zeros(n_sessions, np.intp)
    strategies = np.zeros((n_sessions, n_states, n), np.intp)

    ids = np.arange(n_sessions)  # the session of each running row
    state = np.array([r.integers(n_states) for r in rngs], dtype=np.intp)
    tables = QTables.start(initial_q(game.payoffs, m, cfg.discount), n_sessions, n_states)
    last_change = np.full(n_sessions, -1, dtype=np.int64)  # last period any greedy price changed
    running = list(rngs)

    def finish(done: np.ndarray, t_done: int, ok: bool) -> None:
        k = ids[done]
        converged[k], periods[k], final_state[k], strategies[k] = ok, t_done, state[done], tables.greedy[done]

    t = 0
    next_check = cfg.convergence_periods - 1  # no session can converge before this period
    while t < cfg.max_periods:
        block = min(BLOCK_PERIODS, cfg.max_periods - t)
        u = np.stack([r.random((block, n)) for r in running], axis=1)  # (T, S, n)
        explored = exploration_actions(u, exploration_probability(t + np.arange(block), cfg.beta), m)
        del u
        for j in range(block):
            state, changed = q_step(tables, state, explored[j], game.payoffs, cfg.learning_rate, cfg.discount)
            last_change[changed] = t
            if t >= next_check:
                done = t - last_change >= cfg.convergence_periods
                if done.any():
                    finish(done, t + 1, True)
                    keep = ~done
                    if not keep.any():
                        return converged, periods, final_state, strategies
                    ids, state, tables, last_change = ids[keep], state[keep], tables.select(keep), last_change[keep]
                    explored = explored[:, keep]
                    running = [r for r, k in zip(running, keep) if k]
                next_check = int(last_change.min()) + cfg.convergence_periods
            t += 1
        if on_block is not None:
            on_block(t, len(ids))
    finish(np.ones(len(ids), bool), cfg.max_periods, False)
    return converged, periods, final_state, strategies


def run_sessions(
    n_sessions: int,
    config: QLearningConfig | None = None,
    *,
    seed: int = 0,
    env_id: str = "LogitBertrand-v0",
    overrides: dict[str, Any] | None = None,
    on_block: Callable[[int, int], None] | None = None,
) -> QLearningResult:
    """Run ``n_sessions`` independent Q-learning sessions on ``env_id`` and measure their outcome.

    ``on_block(periods, running)``: progress, as in :func:`learn`.

    Each session's outcome is the cycle that its final greedy strategies reach from its final
    state (for sessions that hit ``max_periods`` too; ``converged`` says which did not converge).
    """
    cfg = config or QLearningConfig()
    n_sessions = check_int("n_sessions", n_sessions, low=1, high=1_000_000)
    seed = check_int("seed", seed, low=0)
    game = make_game(cfg.n_prices, env_id, overrides)
    converged, periods, final_state, strategies = learn(game, cfg, session_streams(seed, n_sessions), on_block)
    outcomes = [cycle_outcome(game, strategies[k], int(final_state[k])) for k in range(n_sessions)]
    cycle_profit = np.array([o[1] for o in outcomes])
    return QLearningResult(
        game=game,
        config=cfg,
        seed=seed,
        env_id=env_id,
        overrides=dict(overrides or {}),
        converged=converged,
        periods=periods,
        final_state=final_state,
        strategies=strategies,
        delta=session_delta(game, cycle_profit),
        cycle_length=np.array([o[0] for o in outcomes], dtype=np.int64),
        cycle_profit=cycle_profit,
        cycle_prices=np.array([o[2] for o in outcomes]),
    )


def summarise(result: QLearningResult) -> dict[str, Any]:
    """A JSON-able summary: Delta (mean with 95% CI over sessions, median), convergence,
    cycles, the Nash and joint benchmarks and the settings."""
    r, g = result, result.game
    ok = r.converged
    finite = lambda x: None if not math.isfinite(x) else float(x)  # noqa: E731
    return {
        "env": r.env_id,
        "overrides": r.overrides,
        "sessions": r.n_sessions,
        "seed": r.seed,
        "config": r.config.to_dict(),
        "delta": {
            "mean": finite(r.delta.mean()),
            "ci95": ci95(r.delta, total=False),
            "median": finite(np.median(r.delta)),
            "std": finite(r.delta.std(ddof=1)) if r.n_sessions > 1 else None,
            "mean_converged": finite(r.delta[ok].mean()) if ok.any() else None,
        },
        "converged_share": float(ok.mean()),
        "periods": {
            "mean_converged": float(r.periods[ok].mean()) if ok.any() else None,
            "median_converged": float(np.median(r.periods[ok])) if ok.any() else None,
            "max": int(r.periods.max()),
        },
        "cycle_length": {
            "mean": float(r.cycle_length.mean()),
            "share_constant": float((r.cycle_length == 1).mean()),
            "max": int(r.cycle_length.max()),
        },
        "cycle_prices_mean": r.cycle_prices.mean(axis=0).tolist(),
        "cycle_profit_mean": r.cycle_profit.mean(axis=0).tolist(),
        "nash": {"prices": g.nash_prices.tolist(), "profits": g.nash_profits.tolist()},
        "joint": {"prices": g.joint_prices.tolist(), "profits": g.joint_profits.tolist()},
        "price_grid": g.price_grid.tolist(),
        "caveats": list(g.caveats),
    }
