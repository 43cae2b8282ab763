"""Baseline pricing policies, all with one interface: observations (B, N, D) in, actions (B, N, 1) out.

Under a coordination protocol (``config.protocol``) they post prices only, price-only actions
(B, N_stations, 1) whose protocol columns the environment sets to 0 (silence, mid-range
announcements and recommendations), except ``random``, which draws every column.

``random``
    independent uniform actions.
``fixed``
    a constant price (``price``: one, or one per station; default the middle of each
    station's bounds).
``time_of_use``
    the wholesale price of the current hour plus a ``markup`` (default: the markup that
    puts the average price at the middle of the bounds).
``myopic``
    every period, each station's best response to the other stations' last prices under
    the known logit demand, at the current marginal cost (needs the other prices in the
    observation: ``observability="full"``).
``nash``, ``joint``
    the stationary Bertrand-Nash or joint-profit prices of the environment's static logit
    market (:mod:`evprice.policies.theory`).
``stackelberg``
    the stationary Stackelberg prices of that market, with the environment's leader
    (``config.leader``; the first station where it has none) leading.
``best_fixed``
    the fixed price per station that maximises the stations' total profit, found by a
    grid search on simulated episodes (:mod:`evprice.policies.search`); with the option
    ``cost_limit``, among the prices whose mean constraint cost per episode is within it
    (the best safe fixed prices of a coupled scenario).

Prices outside a station's bounds are clipped to them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from evprice.core.actions import unscale_action
from evprice.core.config import ConfigError, check_float
from evprice.core.rng import spawn_streams
from evprice.envs.market_env import MarketEnv
from evprice.market.features import PUBLIC_MARKET_SIGNAL, STATION_STATUS
from evprice.market.theory import (
    LogitMarket,
    bertrand_nash,
    best_responses,
    joint_optimum,
    logit_market,
    stackelberg,
)
from evprice.policies.search import best_fixed_prices


class RandomPolicy:
    """Independent uniform actions in ``[-1, 1]`` for every agent at every decision (every
    column of ``action_size``: under a coordination protocol, random messages too)."""

    name = "random"

    def __init__(self, n_agents: int, seed: int | None = None, action_size: int = 1) -> None:
        self.n_agents = n_agents
        self.action_size = action_size
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self._rng = spawn_streams(seed, ["policy"])["policy"]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self._rng.uniform(-1.0, 1.0, size=(obs.shape[0], self.n_agents, self.action_size))


class PricePolicy:
    """Turns prices (B, N) into actions, clipping them to each station's bounds."""

    def __init__(self, env: MarketEnv) -> None:
        self.price_min = env.params.price_min
        self.price_max = env.params.price_max

    def reset(self, seed: int | None = None) -> None:
        return None

    def actions(self, price_per_kwh: np.ndarray) -> np.ndarray:
        p = np.clip(price_per_kwh, self.price_min, self.price_max)
        return unscale_action(p, self.price_min, self.price_max)[..., None]


class FixedPricePolicy(PricePolicy):
    """Every station posts the same price at every decision."""

    def __init__(self, env: MarketEnv, price_per_kwh: np.ndarray, name: str = "fixed") -> None:
        super().__init__(env)
        self.name = name
        self.price_per_kwh = np.asarray(price_per_kwh, dtype=np.float64)
        self._actions = self.actions(self.price_per_kwh)[None]  # (1, N, 1)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._actions, (obs.shape[0],) + self._actions.shape[1:]).copy()


def _column(env: MarketEnv, agent: str, feature_key: str, field: str) -> int:
    names = env.observation_names(agent)
    try:
        return names.index((feature_key, field))
    except ValueError:
        raise ConfigError(f"{agent} does not observe {feature_key}.{field}") from None


class TimeOfUsePolicy(PricePolicy):
    """Price = wholesale price of the current hour + a markup."""

    name = "time_of_use"

    def __init__(self, env: MarketEnv, markup_per_kwh: np.ndarray) -> None:
        super().__init__(env)
        self.markup_per_kwh = np.asarray(markup_per_kwh, dtype=np.float64)
        self._elec = _column(env, env.agent_ids[0], PUBLIC_MARKET_SIGNAL, "elec_price")

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.actions(obs[:, 0, self._elec, None] + self.markup_per_kwh)


class MyopicPolicy(PricePolicy):
    """Each station best-responds to the others' last prices under the known logit demand.

    The cost of a kWh now is the observed wholesale price / efficiency + the marginal cost;
    the best response is :func:`evprice.market.theory.best_responses`. Under full
    observability every station sees the same posted prices, read here from the first
    station's observation.
    """

    name = "myopic"

    def __init__(self, env: MarketEnv, market: LogitMarket) -> None:
        super().__init__(env)
        self.market = market
        first = env.agent_ids[0]
        self._elec = _column(env, first, PUBLIC_MARKET_SIGNAL, "elec_price")
        try:
            self._prices = np.array([_column(env, first, f"{a}.{STATION_STATUS}", "price") for a in env.station_ids])
        except ConfigError as err:
            raise ConfigError(
                f"the myopic policy needs the other stations' prices: {err}; use observability='full'"
            ) from None
        self._efficiency = env.config.charging_efficiency
        self._mc = env.params.marginal_cost_per_kwh

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        posted = obs[:, 0, self._prices].astype(np.float64)  # (B, N)
        cost = obs[:, 0, self._elec, None] / self._efficiency + self._mc  # (B, N)
        return self.actions(best_responses(self.market, posted, cost))


def _station_prices(env: MarketEnv, value: Any, name: str) -> np.ndarray:
    n = env.n_stations
    try:
        arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name}={value!r} is invalid: expected one number or {n} numbers (one per station)"
        ) from None
    for i, x in enumerate(arr):
        check_float(f"{name}[{i}]" if np.ndim(value) else name, x)
    return arr.copy()


def _no_options(name: str, options: dict[str, Any]) -> None:
    given = [k for k, v in options.items() if v is not None]
    if given:
        raise ConfigError(f"{', '.join(given)} does not apply to the {name!r} policy")


def _random(env: MarketEnv, seed: int | None, **options: Any) -> RandomPolicy:
    _no_options("random", options)
    return RandomPolicy(env.n_agents, seed, env.action_size)


def _fixed(env: MarketEnv, seed: int | None, price: Any = None, **options: Any) -> FixedPricePolicy:
    _no_options("fixed", options)
    lo, hi = env.params.price_min, env.params.price_max
    p = 0.5 * (lo + hi) if price is None else _station_prices(env, price, "price")
    if (p < lo).any() or (p > hi).any():
        ranges = ", ".join(f"[{a:g}, {b:g}]" for a, b in zip(lo, hi))
        raise ConfigError(
            f"price={price!r} is invalid: expected a price inside every station's bounds "
            f"({ranges} {env.config.currency}/kWh)"
        )
    return FixedPricePolicy(env, p)


def _time_of_use(env: MarketEnv, seed: int | None, markup: Any = None, **options: Any) -> TimeOfUsePolicy:
    _no_options("time_of_use", options)
    if markup is None:  # the arrival-weighted average price sits at the middle of the bounds
        params = env.params
        markup = 0.5 * (params.price_min + params.price_max) - params.arrival_weighted_elec_price_per_kwh()
    return TimeOfUsePolicy(env, _station_prices(env, markup, "markup"))


def _myopic(env: MarketEnv, seed: int | None, **options: Any) -> MyopicPolicy:
    _no_options("myopic", options)
    return MyopicPolicy(env, logit_market(env.params))


def _nash(env: MarketEnv, seed: int | None, **options: Any) -> FixedPricePolicy:
    _no_options("nash", options)
    return FixedPricePolicy(env, bertrand_nash(logit_market(env.params)).prices, name="nash")


def _joint(env: MarketEnv, seed: int | None, **options: Any) -> FixedPricePolicy:
    _no_options("joint", options)
    market = logit_market(env.params)
    if market.a0 is None:
        raise ConfigError("the joint policy needs an outside option: without one, total profit grows without bound")
    return FixedPricePolicy(env, joint_optimum(market).prices, name="joint")


def _stackelberg(env: MarketEnv, seed: int | None, **options: Any) -> FixedPricePolicy:
    _no_options("stackelberg", options)
    leader = env.config.leader_index or 0
    return FixedPricePolicy(env, stackelberg(logit_market(env.params), leader).prices, name="stackelberg")


def _best_fixed(env: MarketEnv, seed: int | None, cost_limit: Any = None, **options: Any) -> FixedPricePolicy:
    _no_options("best_fixed", options)
    if cost_limit is not None:
        cost_limit = check_float("cost_limit", cost_limit, low=0.0)
    # search on scenarios of its own, so that evaluating with the same seed is out of sample
    search_seed = int(np.random.SeedSequence([0 if seed is None else seed, SEARCH_SEED_KEY]).generate_state(1)[0])
    prices, _ = best_fixed_prices(env, seed=search_seed, cost_limit=cost_limit)
    return FixedPricePolicy(env, prices, name="best_fixed")


SEARCH_SEED_KEY = 0x5EA4C4


POLICIES: dict[str, Callable[..., Any]] = {
    "random": _random,
    "fixed": _fixed,
    "time_of_use": _time_of_use,
    "myopic": _myopic,
    "nash": _nash,
    "joint": _joint,
    "stackelberg": _stackelberg,
    "best_fixed": _best_fixed,
}


def make_policy(name: str, env: MarketEnv, *, seed: int | None = None, **options: Any) -> Any:
    """Policy ``name`` for ``env``. Options: ``price`` (fixed), ``markup`` (time_of_use),
    ``cost_limit`` (best_fixed: the constraint cost permitted per episode)."""
    try:
        factory = POLICIES[name]
    except KeyError:
        raise ConfigError(
            f"policy={name!r} is invalid: expected one of {', '.join(repr(p) for p in POLICIES)}"
        ) from None
    try:
        return factory(env, seed, **options)
    except ConfigError:
        raise
    except (ValueError, RuntimeError) as err:  # a market the theory cannot handle, a solver that fails
        raise ConfigError(f"the {name!r} policy cannot run on {env.env_id}: {err}") from None
