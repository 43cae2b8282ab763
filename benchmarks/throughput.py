"""Timing helpers shared by the benchmark scripts (not a benchmark itself).

The scripts run as ``python benchmarks/<script>.py``, so this folder is on the import path.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

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
    shapes = {a: env.action_space(a).shape for a in env.possible_agents}  # (1,), or (A,) under a protocol
    actions = [{a: rng.uniform(-1, 1, shapes[a]).astype(np.float32) for a in env.possible_agents} for _ in range(4096)]
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
    actions = np.random.default_rng(0).uniform(-1, 1, (16, num_envs, vec.n_agents, vec.env.action_size))
    i = 0

    def step() -> None:
        nonlocal i
        vec.step(actions[i & 15])
        i += 1

    return calls_per_second(step, seconds) * num_envs


ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def interpreted_world() -> Iterator[None]:
    """Run the worlds made inside on the interpreted reference: numpy's draws and the numpy
    dynamics the compiled kernel replaced (``tests/market/numpy_dynamics.py``).

    The feature values and everything around the world stay as they are, so the difference
    measures the compiled period and its draws.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import evprice.market.world as world
    from tests.market import numpy_dynamics as oracle

    saved = world.run_period, world.advance_period, world.sample_period_draws

    def run_period(params, state, price_per_kwh, streams, travel_time_h=None):
        draws = oracle.sample_period_draws(params, state.period, state.price_per_kwh.shape[0], streams)
        return oracle.advance_period(params, state, price_per_kwh, draws, travel_time_h)

    world.run_period, world.advance_period, world.sample_period_draws = (
        run_period,
        oracle.advance_period,
        oracle.sample_period_draws,
    )
    try:
        yield
    finally:
        world.run_period, world.advance_period, world.sample_period_draws = saved


FIRST_CALL = """
import json, time
t0 = time.perf_counter()
import numpy as np, evprice
t1 = time.perf_counter()
env = evprice.make_vec({env_id!r}, 1)
env.reset(seed=0)
env.step(np.zeros((1, env.n_agents, 1)))
t2 = time.perf_counter()
vec = evprice.make_vec({env_id!r}, 1024)
vec.reset(seed=0)
vec.step(np.zeros((1024, vec.n_agents, 1)))
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "first_step_b1_s": t2 - t1, "first_step_b1024_s": t3 - t2}}))
"""


def first_calls(env_id: str = "PublicCharging-v0") -> dict[str, dict[str, float]]:
    """Seconds to import evprice and run a first step at B = 1 and at B = 1,024, in fresh
    processes: ``cold`` with an empty numba cache (everything compiles), ``cached`` after it."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for name in ("cold", "cached"):
            run = subprocess.run(
                [sys.executable, "-c", FIRST_CALL.format(env_id=env_id)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            out[name] = json.loads(run.stdout.strip().splitlines()[-1])
    return out
