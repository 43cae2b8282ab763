"""Run a policy over whole episodes; total what happened, with confidence intervals.

:func:`rollout` returns the JSON object of ``evprice rollout --json``::

    {"env", "policy", "episodes", "seed", "currency",
     "stations": [{"id", "mean_price", "profit", "revenue", "energy_kwh",
                   "admitted", "blocked", "utilization"}],
     "market": {"arrivals", "admitted", "blocked", "gave_up", "profit", "revenue", "energy_kwh",
                "consumer_surplus", "social_welfare"}}

Money, energy and counts are totals over all episodes; ``mean_price`` is the posted price
averaged over every pricing period of every episode, and ``utilization`` the fraction of
charger-time occupied over the same span. (In an expected-demand market counts are
expected numbers, so they are floats.) ``consumer_surplus`` and ``social_welfare``
(currency, :mod:`evprice.market.welfare`) are left out where the market has no outside
option to measure surplus against.

In a grid-coupled market the object also holds ``"costs": {"voltage", "line", "carbon",
"total", "violating_periods", "nonconverged_periods"}``: each constraint-cost term summed
over all periods of all episodes (:mod:`evprice.grid.costs`; voltage in p.u., line in
loading, carbon in kg CO2), the number of periods whose total cost was positive, and the
number whose power flow did not converge.

:func:`evaluate` returns the same object where every station and the market also carry
``ci95``: for each of those quantities, the 95% confidence interval (Student t over
episodes) of the value reported. Where the environment's static logit market is exact
(:func:`evprice.policies.theory.defines_delta`) it adds ``delta``, the profit-gain index
``(profit - Nash profit) / (joint profit - Nash profit)`` of each station and of the
market, computed on operating profit (revenue minus energy cost) per pricing period,
with its ``ci95``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from evprice.analysis.stats import mean_ci
from evprice.envs.market_env import WELFARE_INFO_KEYS, MarketEnv
from evprice.envs.registry import make_env
from evprice.market.theory import profit_gain
from evprice.policies.baselines import make_policy
from evprice.policies.theory import defines_delta, delta_ends, gain_is_defined

MAX_BATCH = 256
"""Episodes simulated side by side; more episodes run as successive batches."""

STATION_KEYS = ("mean_price", "profit", "revenue", "energy_kwh", "admitted", "blocked", "utilization")
MARKET_KEYS = ("arrivals", "admitted", "blocked", "gave_up", "profit", "revenue", "energy_kwh", *WELFARE_INFO_KEYS)
"""Market totals; the welfare keys only where the market defines them."""
MEANS = {"mean_price", "utilization"}
"""Quantities averaged over an episode's periods (the others are totals)."""
COST_KEYS = ("voltage", "line", "carbon", "total", "violating_periods", "nonconverged_periods")
"""Constraint-cost totals of a grid-coupled market (``info["grid"]``): each cost term, the
periods with a positive cost, and the periods whose power flow did not converge (its cost
is then the configured ``nonconvergence_cost``; a count above 0 says the feeder was pushed
beyond what the solver can follow)."""


@dataclass(frozen=True)
class Episodes:
    """Per-episode results of a run: ``station[key]`` (E, N), ``market[key]`` (E,)."""

    env: MarketEnv
    station: dict[str, np.ndarray]
    market: dict[str, np.ndarray]
    operating_profit: np.ndarray  # (E, N) revenue minus energy cost
    costs: dict[str, np.ndarray] | None = None  # COST_KEYS -> (E,), where the market has a grid


def run_episodes(
    env_id: str,
    policy: str | Callable[[MarketEnv], Any],
    *,
    episodes: int,
    seed: int,
    overrides: Mapping[str, Any] | None = None,
    policy_options: Mapping[str, Any] | None = None,
    on_period: Callable[[int, int], None] | None = None,
) -> tuple[Episodes, str]:
    """Simulate ``episodes`` episodes of ``env_id`` under ``policy``; reproducible from ``seed``.

    ``policy`` is a registered name or ``factory(env) -> policy`` (e.g. a trained
    checkpoint's). Returns the per-episode results and the policy's name.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes={episodes!r} is invalid: expected a positive integer")
    batch = min(episodes, MAX_BATCH)
    env = make_env(env_id, batch, **(overrides or {}))
    pol = policy(env) if callable(policy) else make_policy(policy, env, seed=seed, **(policy_options or {}))
    periods = env.n_periods
    station = {k: [] for k in STATION_KEYS}
    market: dict[str, list] = {k: [] for k in MARKET_KEYS}
    operating = []
    costs: dict[str, list] = {k: [] for k in COST_KEYS}
    has_grid = False
    n_batches = -(-episodes // batch)
    done = 0
    for i in range(n_batches):
        used = min(batch, episodes - i * batch)  # the last batch may use fewer members
        # start from int 0 so that integer counts stay integers
        keys = ("price", "profit", "revenue", "energy_cost", "energy_kwh", "admitted", "blocked", "utilization")
        sums: dict[str, Any] = dict.fromkeys(keys, 0)
        msums: dict[str, Any] = dict.fromkeys(("arrivals", "admitted", "blocked", "gave_up", *WELFARE_INFO_KEYS), 0)
        csums: dict[str, Any] = dict.fromkeys(COST_KEYS, 0)
        obs = env.reset(seed if i == 0 else None)
        for _ in range(periods):
            obs, _, _, _, info = env.step(pol(obs))
            for k in sums:
                sums[k] = sums[k] + info[k][:used]
            for k in msums:
                if k in info["market"]:  # the welfare keys are absent without an outside option
                    msums[k] = msums[k] + info["market"][k][:used]
            if "grid" in info:
                has_grid = True
                grid = info["grid"]
                for k in ("voltage", "line", "carbon"):
                    csums[k] = csums[k] + grid[f"cost_{k}"][:used]
                csums["total"] = csums["total"] + grid["cost"][:used]
                csums["violating_periods"] = csums["violating_periods"] + (grid["cost"][:used] > 0)
                csums["nonconverged_periods"] = csums["nonconverged_periods"] + ~np.asarray(grid["converged"][:used])
            done += 1
            if on_period is not None:
                on_period(done, n_batches * periods)
        station["mean_price"].append(sums["price"] / periods)
        station["utilization"].append(sums["utilization"] / periods)
        for k in ("profit", "revenue", "energy_kwh", "admitted", "blocked"):
            station[k].append(sums[k])
        for k in msums:
            if k not in WELFARE_INFO_KEYS or k in info["market"]:
                market[k].append(np.broadcast_to(msums[k], (used,)))
        for k in ("profit", "revenue", "energy_kwh"):
            market[k].append(sums[k].sum(axis=1))
        operating.append(sums["revenue"] - sums["energy_cost"])
        for k in COST_KEYS:
            costs[k].append(np.broadcast_to(csums[k], (used,)))
    result = Episodes(
        env=env,
        station={k: np.concatenate(v) for k, v in station.items()},
        market={k: np.concatenate(v) for k, v in market.items() if v},
        operating_profit=np.concatenate(operating),
        costs={k: np.concatenate(v) for k, v in costs.items()} if has_grid else None,
    )
    return result, getattr(pol, "name", policy)


def _number(x: Any) -> int | float:
    x = np.asarray(x).item()
    return int(x) if isinstance(x, (int, np.integer)) else float(x)


def _aggregate(values: np.ndarray, key: str) -> int | float:
    """Total over episodes, or the mean for quantities that are averages."""
    return _number(values.mean(axis=0) if key in MEANS else values.sum(axis=0))


NON_NEGATIVE = {
    "mean_price", "revenue", "energy_kwh", "admitted", "blocked", "utilization", "arrivals", "gave_up",
    "consumer_surplus", *COST_KEYS,
}  # fmt: skip
"""Quantities that are never negative: their intervals are cut at 0."""


def ci95(values: np.ndarray, total: bool, key: str | None = None) -> list[float] | None:
    """95% confidence interval of the mean of ``values`` (E,) over episodes, or of their total;
    cut at 0 for a ``key`` in :data:`NON_NEGATIVE`."""
    _, ci = mean_ci(values, low=0.0 if key in NON_NEGATIVE else None)
    if ci is None:
        return None
    scale = len(values) if total else 1
    return [float(scale * ci[0]), float(scale * ci[1])]


def _summary(runs: Episodes, env_id: str, policy: str, episodes: int, seed: int, with_ci: bool) -> dict[str, Any]:
    env = runs.env
    stations = []
    for j, agent_id in enumerate(env.station_ids):
        row: dict[str, Any] = {"id": agent_id}
        row.update({k: _aggregate(runs.station[k][:, j], k) for k in STATION_KEYS})
        if with_ci:
            row["ci95"] = {k: ci95(runs.station[k][:, j], k not in MEANS, k) for k in STATION_KEYS}
        stations.append(row)
    keys = [k for k in MARKET_KEYS if k in runs.market]
    market: dict[str, Any] = {k: _aggregate(runs.market[k], k) for k in keys}
    if with_ci:
        market["ci95"] = {k: ci95(runs.market[k], True, k) for k in keys}
    out = {
        "env": env_id,
        "policy": policy,
        "episodes": episodes,
        "seed": seed,
        "currency": env.config.currency,
        "stations": stations,
        "market": market,
    }
    if runs.costs is not None:
        costs: dict[str, Any] = {k: _aggregate(runs.costs[k], k) for k in COST_KEYS}
        if with_ci:
            costs["ci95"] = {k: ci95(runs.costs[k].astype(np.float64), True, k) for k in COST_KEYS}
        out["costs"] = costs
    return out


def rollout(
    env_id: str = "PublicCharging-v0",
    policy: str = "random",
    *,
    episodes: int = 1,
    seed: int = 0,
    overrides: Mapping[str, Any] | None = None,
    on_period: Callable[[int, int], None] | None = None,
    **policy_options: Any,
) -> dict[str, Any]:
    """Run ``episodes`` episodes of ``env_id`` under ``policy`` and total them.

    ``policy_options`` go to the policy (``price=`` for ``fixed``, ``markup=`` for
    ``time_of_use``); ``on_period(done, total)`` is called after every batched period.
    """
    runs, name = run_episodes(
        env_id,
        policy,
        episodes=episodes,
        seed=seed,
        overrides=overrides,
        policy_options=policy_options,
        on_period=on_period,
    )
    return _summary(runs, env_id, name, episodes, seed, with_ci=False)


def evaluate(
    env_id: str = "PublicCharging-v0",
    policy: str | Callable[[MarketEnv], Any] = "random",
    *,
    episodes: int = 10,
    seed: int = 0,
    overrides: Mapping[str, Any] | None = None,
    on_period: Callable[[int, int], None] | None = None,
    **policy_options: Any,
) -> dict[str, Any]:
    """:func:`rollout` with 95% confidence intervals, and ``delta`` where it is defined."""
    runs, name = run_episodes(
        env_id,
        policy,
        episodes=episodes,
        seed=seed,
        overrides=overrides,
        policy_options=policy_options,
        on_period=on_period,
    )
    out = _summary(runs, env_id, name, episodes, seed, with_ci=True)
    if defines_delta(runs.env):
        out["delta"] = delta(runs)
    return out


def delta(runs: Episodes) -> dict[str, Any]:
    """Profit-gain index of each station and of the market, mean over episodes, with ci95.

    A station's Delta is None when its joint-optimum profit is not above its Nash profit
    (it can happen in asymmetric markets: the joint optimum may sacrifice a weak station),
    because the index then has no meaning; the market's Delta is None for the same reason
    when collusion gains nothing at all (a market nobody buys from: the outside option wins).
    """
    env = runs.env
    nash, joint = delta_ends(env)
    per_period = runs.operating_profit / env.n_periods  # (E, N)
    out: dict[str, Any] = {}
    intervals: dict[str, Any] = {}
    if not gain_is_defined(nash.sum(), joint.sum()):
        ids = env.station_ids
        return {**{a: None for a in ids}, "total": None, "ci95": {a: None for a in (*ids, "total")}}
    total = profit_gain(per_period.sum(axis=1), nash.sum(), joint.sum())  # (E,)
    for j, agent_id in enumerate(env.station_ids):
        if gain_is_defined(nash[j], joint[j]):
            gain = profit_gain(per_period[:, j], nash[j], joint[j])
            out[agent_id], intervals[agent_id] = float(gain.mean()), ci95(gain, False)
        else:
            out[agent_id], intervals[agent_id] = None, None
    out["total"] = float(total.mean())
    intervals["total"] = ci95(total, False)
    out["ci95"] = intervals
    return out
