"""Baseline pricing policies, all with one interface: observations (B, N, D) in, actions (B, N, 1) out.

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
``best_fixed``
    the fixed price per station that maximises the stations' total profit, found by a
    grid search on simulated episodes (:mod:`evprice.policies.search`).

Prices outside a station's bounds are clipped to them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

from evprice.core.actions import unscale_action
from evprice.core.config import ConfigError, check_float
from evprice.core.rng import spawn_streams
from evprice.envs.market_env import MarketEnv
from evprice.market.features import PUBLIC_MARKET_SIGNAL, STATION_STATUS
from evprice.market.theory import LogitMarket, bertrand_nash, joint_optimum, lambertw_exp, logit_market
from evprice.policies.search import best_fixed_prices


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
    names = env.layout.observation_names(agent)
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

    Marginal cost now = observed wholesale price / efficiency + marginal cost per kWh; the
    best response is the Lambert-W closed form of :func:`evprice.market.theory.best_response`.
    """

    name = "myopic"

    def __init__(self, env: MarketEnv, market: LogitMarket) -> None:
        super().__init__(env)
        self.market = market
        ids = env.agent_ids
        n = len(ids)
        self._elec = _column(env, ids[0], PUBLIC_MARKET_SIGNAL, "elec_price")
        try:
            self._others = np.array(
                [
                    [_column(env, ids[i], f"{ids[j]}.{STATION_STATUS}", "price") for j in range(n) if j != i]
                    for i in range(n)
                ]
            ).reshape(n, n - 1)
        except ConfigError as err:
            raise ConfigError(
                f"the myopic policy needs the other stations' prices: {err}; use observability='full'"
            ) from None
        self._other_a = np.array([[market.a[j] for j in range(n) if j != i] for i in range(n)]).reshape(n, n - 1)
        self._efficiency = env.config.charging_efficiency
        self._mc = env.params.marginal_cost_per_kwh

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        m = self.market
        b, n = obs.shape[0], m.n
        cost = obs[:, 0, self._elec, None] / self._efficiency + self._mc  # (B, N)
        others = np.take_along_axis(obs, np.broadcast_to(self._others[None], (b, n, n - 1)), axis=2)  # (B, N, N-1)
        terms = (self._other_a - others) / m.mu
        outside = np.full((b, n, 1), -np.inf if m.a0 is None else m.a0 / m.mu)
        log_k = special.logsumexp(np.concatenate([terms, outside], axis=2), axis=2)  # (B, N)
        z = (m.a - cost) / m.mu - 1.0 - log_k
        return self.actions(cost + m.mu * (1.0 + lambertw_exp(z)))


def _station_prices(env: MarketEnv, value: Any, name: str) -> np.ndarray:
    n = env.n_agents
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
    return RandomPolicy(env.n_agents, seed)


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
    if markup is None:
        params = env.params
        lam = params.expected_arrivals
        elec = env.config.elec_price_profile_per_kwh()[(params.first_hour + params.substep_hour) % 24]
        mean_elec = float(lam @ elec / lam.sum()) if lam.sum() > 0 else float(elec.mean())
        markup = 0.5 * (params.price_min + params.price_max) - mean_elec
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


def _best_fixed(env: MarketEnv, seed: int | None, **options: Any) -> FixedPricePolicy:
    _no_options("best_fixed", options)
    prices, _ = best_fixed_prices(env, seed=0 if seed is None else seed)
    return FixedPricePolicy(env, prices, name="best_fixed")


POLICIES: dict[str, Callable[..., Any]] = {
    "random": _random,
    "fixed": _fixed,
    "time_of_use": _time_of_use,
    "myopic": _myopic,
    "nash": _nash,
    "joint": _joint,
    "best_fixed": _best_fixed,
}


def make_policy(name: str, env: MarketEnv, *, seed: int | None = None, **options: Any) -> Any:
    """Policy ``name`` for ``env``. Options: ``price`` (fixed), ``markup`` (time_of_use)."""
    try:
        factory = POLICIES[name]
    except KeyError:
        raise ConfigError(
            f"policy={name!r} is invalid: expected one of {', '.join(repr(p) for p in POLICIES)}"
        ) from None
    try:
        return factory(env, seed, **options)
    except ValueError as err:  # a market the theory cannot handle (probit noise, no price response)
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(f"the {name!r} policy cannot run on {env.env_id}: {err}") from None
