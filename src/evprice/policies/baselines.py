"""Baseline pricing policies: ``random`` and ``fixed``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from evprice.core.config import ConfigError
from evprice.core.rng import spawn_streams
from evprice.envs.market_env import MarketEnv


class RandomPolicy:
    """Independent uniform actions in ``[-1, 1]`` for every agent at every decision."""

    name = "random"

    def __init__(self, n_agents: int, seed: int | None = None) -> None:
        self.n_agents = n_agents
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self._rng = spawn_streams(seed, ["policy"])["policy"]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self._rng.uniform(-1.0, 1.0, size=(obs.shape[0], self.n_agents, 1))


class FixedPricePolicy:
    """Every station posts the same configured price at every decision."""

    name = "fixed"

    def __init__(self, actions: np.ndarray, price_per_kwh: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.float64).reshape(1, -1, 1)
        self.price_per_kwh = np.asarray(price_per_kwh, dtype=np.float64)

    def reset(self, seed: int | None = None) -> None:
        return None

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._actions, (obs.shape[0],) + self._actions.shape[1:]).copy()


def _random(env: MarketEnv, seed: int | None = None, price: Any = None) -> RandomPolicy:
    if price is not None:
        raise ConfigError("price only applies to the 'fixed' policy")
    return RandomPolicy(env.n_agents, seed)


def _fixed(env: MarketEnv, seed: int | None = None, price: float | Sequence[float] | None = None) -> FixedPricePolicy:
    lo, hi = env.params.price_min, env.params.price_max
    ranges = ", ".join(f"[{a:g}, {b:g}]" for a, b in zip(lo, hi))
    try:
        p = 0.5 * (lo + hi) if price is None else np.broadcast_to(np.asarray(price, dtype=np.float64), lo.shape)
    except (TypeError, ValueError):
        raise ConfigError(
            f"price={price!r} is invalid: expected one price or {len(lo)} prices (one per station)"
        ) from None
    if not np.isfinite(p).all() or (p < lo).any() or (p > hi).any():
        raise ConfigError(
            f"price={price!r} is invalid: expected a price inside every station's bounds "
            f"({ranges} {env.config.currency}/kWh)"
        )
    return FixedPricePolicy(env.prices_to_actions(p), p)


POLICIES: dict[str, Callable[..., Any]] = {"random": _random, "fixed": _fixed}


def make_policy(name: str, env: MarketEnv, *, seed: int | None = None, price: Any = None) -> Any:
    """Policy ``name`` for ``env``. ``fixed`` posts ``price`` (default: the middle of each station's bounds)."""
    try:
        factory = POLICIES[name]
    except KeyError:
        raise ConfigError(
            f"policy={name!r} is invalid: expected one of {', '.join(repr(p) for p in POLICIES)}"
        ) from None
    return factory(env, seed=seed, price=price)
