"""Game-theory benchmarks: how far a pricing policy is from competition and from the joint optimum.

The solvers are pure functions of a static logit market (:class:`LogitMarket`); they live
in :mod:`evprice.market.theory` because scenarios need them below this layer (the default
price range of ``LogitBertrand-v0`` spans its Nash and joint prices), and are re-exported
here. :func:`benchmarks` applies them to an environment's market.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evprice.envs.market_env import MarketEnv
from evprice.market.theory import (
    CapacityMarket,
    LogitMarket,
    Solution,
    bertrand_nash,
    best_response,
    capacity_joint_optimum,
    capacity_market,
    capacity_nash,
    erlang_b,
    joint_optimum,
    lambertw_exp,
    logit_market,
    profit_gain,
    profits,
    shares,
    stackelberg,
    static_market_caveats,
    static_market_is_exact,
)

__all__ = [
    "CapacityMarket",
    "LogitMarket",
    "Solution",
    "benchmarks",
    "best_response",
    "bertrand_nash",
    "capacity_joint_optimum",
    "capacity_market",
    "capacity_nash",
    "defines_delta",
    "delta_ends",
    "erlang_b",
    "gain_is_defined",
    "joint_optimum",
    "lambertw_exp",
    "logit_market",
    "profit_gain",
    "profits",
    "shares",
    "stackelberg",
    "static_market_caveats",
    "static_market_is_exact",
]


def defines_delta(env: MarketEnv) -> bool:
    """Whether ``Delta`` compares like with like: the static market is exactly the environment's
    expected market (:func:`evprice.market.theory.static_market_is_exact`)."""
    return static_market_is_exact(env.params)


def delta_ends(env: MarketEnv) -> tuple[np.ndarray, np.ndarray]:
    """The two ends of ``Delta`` for ``env``'s market: each station's Nash and joint-optimum
    profits per pricing period, (N,) each (the one place Delta's benchmarks are computed)."""
    market = logit_market(env.params)
    return bertrand_nash(market).profits, joint_optimum(market).profits


def gain_is_defined(nash_profit: float, joint_profit: float) -> bool:
    """Whether ``Delta = (pi - pi_N) / (pi_M - pi_N)`` has a meaning: the joint optimum earns
    more than Nash (not so for a monopoly, or a station the joint optimum sacrifices)."""
    return joint_profit - nash_profit > 1e-12 * max(1.0, abs(nash_profit))


def benchmarks(env: MarketEnv, leader: int | None = None) -> dict[str, Any]:
    """Nash, joint-profit and Stackelberg prices, shares and profits of ``env``'s market.

    ``leader``: 0-based index of the Stackelberg leader; None = the environment's own leader
    (``config.leader``), or the first station where it has none.

    Profits are per pricing period, before fixed costs. For a sampled market the static
    market ignores congestion and blocking; ``capacity`` then adds the Nash and joint
    optimum when each station is an Erlang loss system with the environment's chargers.

    Returns:
        ``{"env", "currency", "kind", "caveats": [...], "market": {...}, "nash": {...},
        "joint": {...} | None, "stackelberg": {"leader", ...}, "capacity": {"nash", "joint"}
        (sampled only)}``; ``caveats`` says why the static market is only an approximation.
    """
    market = logit_market(env.params)
    caveats = static_market_caveats(env.params)
    if leader is None:
        leader = env.config.leader_index or 0
    if isinstance(leader, bool) or not isinstance(leader, (int, np.integer)) or not 0 <= leader < market.n:
        raise ValueError(f"leader={leader!r} is invalid: expected a station index in [0, {market.n - 1}]")
    out: dict[str, Any] = {
        "env": env.env_id,
        "currency": env.config.currency,
        "kind": "approximation" if caveats else "exact",
        "caveats": caveats,
        "market": {
            "a": market.a.tolist(),
            "a0": market.a0,
            "mu": market.mu,
            "c": market.c.tolist(),
            "quantity_kwh": market.quantity.tolist(),
        },
        "nash": bertrand_nash(market).to_dict(),
        "joint": None if market.a0 is None else joint_optimum(market).to_dict(),
        "stackelberg": {"leader": env.agent_ids[leader], **stackelberg(market, leader).to_dict()},
    }
    if env.config.demand == "sampled":
        cm = capacity_market(env.params)
        out["capacity"] = {
            "nash": capacity_nash(cm).to_dict(),
            "joint": None if market.a0 is None else capacity_joint_optimum(cm).to_dict(),
        }
    return out
