"""Roll a policy out over whole episodes and total what happened.

The summary is the JSON object of ``evprice rollout --json``::

    {"env", "policy", "episodes", "seed",
     "stations": [{"id", "mean_price", "profit", "revenue", "energy_kwh",
                   "admitted", "blocked", "utilization"}],
     "market": {"arrivals", "admitted", "blocked", "gave_up", "profit"}}

Money, energy and counts are totals over all episodes; ``mean_price`` is the posted price
averaged over every pricing period of every episode, and ``utilization`` the fraction of
charger-time occupied over the same span.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from evprice.envs.registry import make_env
from evprice.policies.baselines import make_policy

MAX_BATCH = 256
"""Episodes simulated side by side; more episodes run as successive batches."""


def rollout(
    env_id: str = "PublicCharging-v0",
    policy: str = "random",
    *,
    episodes: int = 1,
    seed: int = 0,
    overrides: Mapping[str, Any] | None = None,
    price: Any = None,
    on_period: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run ``episodes`` episodes of ``env_id`` under ``policy`` and summarise them.

    ``on_period(done, total)`` is called after every batched pricing period (for progress
    bars). The run is reproducible from ``seed``.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes={episodes!r} is invalid: expected a positive integer")
    batch = min(episodes, MAX_BATCH)
    env = make_env(env_id, batch, **(overrides or {}))
    pol = make_policy(policy, env, seed=seed, price=price)
    n, periods = env.n_agents, env.n_periods
    keys = ("price", "profit", "revenue", "energy_kwh", "admitted", "blocked", "utilization")
    station_sum = {k: np.zeros(n) for k in keys}
    market_sum = dict.fromkeys(("arrivals", "admitted", "blocked", "gave_up"), 0)
    n_batches = -(-episodes // batch)
    done = 0
    for i in range(n_batches):
        used = min(batch, episodes - i * batch)  # the last batch may use fewer members
        obs = env.reset(seed if i == 0 else None)
        for _ in range(periods):
            obs, _, _, _, info = env.step(pol(obs))
            for k in keys:
                station_sum[k] += info[k][:used].sum(axis=0)
            for k in market_sum:
                market_sum[k] += int(info["market"][k][:used].sum())
            done += 1
            if on_period is not None:
                on_period(done, n_batches * periods)
    spans = episodes * periods
    stations = [
        {
            "id": agent_id,
            "mean_price": float(station_sum["price"][j] / spans),
            "profit": float(station_sum["profit"][j]),
            "revenue": float(station_sum["revenue"][j]),
            "energy_kwh": float(station_sum["energy_kwh"][j]),
            "admitted": int(station_sum["admitted"][j]),
            "blocked": int(station_sum["blocked"][j]),
            "utilization": float(station_sum["utilization"][j] / spans),
        }
        for j, agent_id in enumerate(env.agent_ids)
    ]
    return {
        "env": env_id,
        "policy": policy,
        "episodes": episodes,
        "seed": seed,
        "currency": env.config.currency,
        "stations": stations,
        "market": {**market_sum, "profit": float(station_sum["profit"].sum())},
    }
