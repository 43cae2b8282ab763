"""Timing helpers shared by the benchmark scripts (not a benchmark itself).

The scripts run as ``python benchmarks/<script>.py``, so this folder is on the import path.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

import evprice


def calls_per_second(step: Callable[[], None], seconds: float) -> float:
    """Calls per second of ``step`` over about ``seconds`` (checked every ten calls)."""
    n = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(10):
            step()
        n += 10
    return n / elapsed


def median_of(fn: Callable[[float], float], seconds: float, repeats: int) -> float:
    """Median of ``repeats`` runs of ``fn(seconds)`` after a short warm-up run."""
    fn(min(seconds, 0.3))
    return statistics.median(fn(seconds) for _ in range(repeats))


def pettingzoo_steps_per_s(seconds: float, env_id: str = "PublicCharging-v0", **overrides) -> float:
    """Pricing steps per second of ``evprice.make(env_id)`` (B = 1), random actions made beforehand."""
    env = evprice.make(env_id, **overrides)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = [{a: rng.uniform(-1, 1, (1,)).astype(np.float32) for a in env.possible_agents} for _ in range(4096)]
    i = 0

    def step() -> None:
        nonlocal i
        if not env.agents:
            env.reset()
        env.step(actions[i & 4095])
        i += 1

    return calls_per_second(step, seconds)


def vector_env_steps_per_s(
    seconds: float, env_id: str = "PublicCharging-v0", num_envs: int = 1024, **overrides
) -> float:
    """Env-steps per second of ``evprice.make_vec(env_id, num_envs)`` (one env-step = one
    pricing decision of one environment), random actions made beforehand."""
    vec = evprice.make_vec(env_id, num_envs, **overrides)
    vec.reset(seed=0)
    actions = np.random.default_rng(0).uniform(-1, 1, (16, num_envs, vec.n_agents, 1))
    i = 0

    def step() -> None:
        nonlocal i
        vec.step(actions[i & 15])
        i += 1

    return calls_per_second(step, seconds) * num_envs
