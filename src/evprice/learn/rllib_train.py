"""Multi-agent PPO with Ray RLlib, on one machine or a Ray cluster (``evprice train rllib``).

Needs the optional extra ``distributed`` (``pip install torch==2.13.0`` first on CPU
machines, then ``pip install "evprice[distributed]"``). Ray is imported inside the
functions, so ``import evprice.learn`` works without it. The RLlib side (environment,
policies, PPO settings) lives in :mod:`evprice.adapters.rllib`; this module owns the Ray
session and the loop.

Ray session: with ``address=None`` a private local Ray instance is started (no dashboard,
``num_env_runners + 1`` CPUs) with Ray's own default, token authentication (ray 2.60 writes
the token to ``~/.ray/auth_token``): its gRPC ports listen on every interface (the GCS
server and the raylet bind ``::`` even when the node address is ``127.0.0.1``; the test
lists the sockets), so without it anyone who can reach the machine could submit work while
the run lasts. An earlier
version switched it off (``RAY_AUTH_MODE=disabled``); set that yourself only on a machine
nobody else can reach.
With ``address="ray://head:10001"`` (Ray Client) or ``"auto"`` / ``"host:6379"`` (from a
cluster node) it joins that cluster and leaves its authentication alone: set
``RAY_AUTH_TOKEN`` (or ``~/.ray/auth_token``) as the cluster asks. If Ray is already
initialised in this process, that session is used and left running.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import yaml

RUN_FILE = "evprice_rllib.yaml"
"""Written beside an RLlib run's ``checkpoint/``: the scenario and policy layout that
:func:`load_rllib` needs to play the trained modules on evprice's own environments."""

AUTH_MODE_ENV_VAR = "RAY_AUTH_MODE"
"""Ray's switch for token authentication (``token`` or ``disabled``)."""


def train_rllib(
    env_id: str,
    *,
    steps: int,
    seed: int = 0,
    num_env_runners: int = 0,
    address: str | None = None,
    out_dir: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    shared_policy: bool = True,
    on_iteration: Callable[[dict[str, Any]], None] | None = None,
    train_batch_size: int | None = None,
    num_envs_per_env_runner: int = 1,
) -> dict[str, Any]:
    """Train the stations of ``env_id`` with RLlib multi-agent PPO until ``steps`` env steps
    (pricing periods, all stations acting together) have been sampled.

    Args:
        env_id: registered scenario id.
        steps: env steps to sample, > 0; training stops after the first iteration that
            reaches it.
        seed: seeds RLlib (torch) and the environments.
        num_env_runners: remote sampling actors (0: sample in this process).
        address: None: start a local Ray instance; ``"ray://host:port"`` or another Ray
            address: connect to that cluster (evprice must be installed on its nodes).
        out_dir: if given, the final RLlib checkpoint is written to ``out_dir/checkpoint``
            (``ray.rllib.algorithms.Algorithm.from_checkpoint`` restores it).
        overrides: the scenario's config overrides.
        shared_policy: one policy for all stations (True) or one per station.
        on_iteration: called after every training iteration with that iteration's
            metrics (the keys of the summary, ``checkpoint`` excepted).
        train_batch_size: env steps per iteration; default ``min(steps, 4000)``.
        num_envs_per_env_runner: environments each runner steps together (see
            :func:`evprice.adapters.rllib.ppo_config`).

    Returns:
        ``{"iterations", "env_steps", "episode_return_mean", "time_s",
        "iteration_time_s", "checkpoint"}``: the episode return is the mean over the last
        completed episodes of the sum of all stations' rewards (NaN if none completed);
        ``iteration_time_s`` is the mean wall time of one iteration; ``checkpoint`` is the
        path written, or None.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps={steps!r} is invalid: expected a positive integer (env steps)")
    if isinstance(num_env_runners, bool) or not isinstance(num_env_runners, int) or num_env_runners < 0:
        raise ValueError(f"num_env_runners={num_env_runners!r} is invalid: expected an integer >= 0")
    batch = min(steps, 4000) if train_batch_size is None else int(train_batch_size)
    if batch < 1:
        raise ValueError(f"train_batch_size={train_batch_size!r} is invalid: expected a positive integer")

    from evprice.adapters.rllib import ppo_config  # imports ray

    config = ppo_config(
        env_id,
        overrides=overrides,
        shared_policy=shared_policy,
        num_env_runners=num_env_runners,
        seed=seed,
        num_envs_per_env_runner=num_envs_per_env_runner,
        train_batch_size=batch,
        minibatch_size=min(256, batch),
    )
    with _ray_session(address, num_cpus=num_env_runners + 1):
        start = time.perf_counter()
        algo = config.build_algo()
        try:
            iterations, env_steps, ret, iter_times = 0, 0, math.nan, []
            while env_steps < steps:
                t0 = time.perf_counter()
                result = algo.train()
                iter_times.append(time.perf_counter() - t0)
                iterations += 1
                previous, env_steps, ret = env_steps, _env_steps(result), _episode_return(result)
                if env_steps <= previous:
                    raise RuntimeError(f"RLlib iteration {iterations} sampled no env steps ({env_steps} in all)")
                if on_iteration is not None:
                    on_iteration(
                        {
                            "iterations": iterations,
                            "env_steps": env_steps,
                            "episode_return_mean": ret,
                            "time_s": time.perf_counter() - start,
                            "iteration_time_s": iter_times[-1],
                        }
                    )
            checkpoint = None
            if out_dir is not None:
                path = Path(out_dir).resolve() / "checkpoint"
                path.parent.mkdir(parents=True, exist_ok=True)
                checkpoint = str(algo.save_to_path(str(path)))
                run = {"trainer": "rllib", "env_id": env_id, "overrides": dict(overrides or {}), "seed": seed}
                run["shared_policy"] = shared_policy
                (path.parent / RUN_FILE).write_text(yaml.safe_dump(run, sort_keys=False), encoding="utf-8")
        finally:
            algo.stop()
        return {
            "iterations": iterations,
            "env_steps": env_steps,
            "episode_return_mean": ret,
            "time_s": time.perf_counter() - start,
            "iteration_time_s": sum(iter_times) / len(iter_times),
            "checkpoint": checkpoint,
        }


def rllib_run_folder(path: str | Path) -> Path | None:
    """The run folder of an RLlib run (``evprice train rllib --out RUN``) given ``RUN`` or
    ``RUN/checkpoint``; None for anything else."""
    p = Path(path)
    for folder in (p, p.parent):
        if (folder / "checkpoint" / "rllib_checkpoint.json").is_file():
            return folder
    return None


def load_rllib(path: str | Path) -> tuple[str, dict[str, Any], Callable[[Any], Any]]:
    """``(env_id, overrides, factory)`` of an RLlib run folder, as :func:`evprice.learn.trained.load_trained`
    gives them: ``factory(env)`` is the deterministic policy (each station posts the mean of its
    module's Gaussian, clipped to [-1, 1]) of the trained RLModules, read without starting Ray.
    Raises :class:`evprice.learn.CheckpointError` when the folder lacks what it needs."""
    from evprice.core.config import ConfigError
    from evprice.learn.checkpoint import CheckpointError

    folder = rllib_run_folder(path)
    if folder is None or not (folder / RUN_FILE).is_file():
        raise CheckpointError(
            f"{str(path)!r} is an RLlib checkpoint without {RUN_FILE}: evaluate the run folder that "
            "`evprice train rllib --out RUN` wrote (it records the scenario beside the checkpoint)"
        )
    run = yaml.safe_load((folder / RUN_FILE).read_text(encoding="utf-8"))
    from ray.rllib.core.rl_module.rl_module import RLModule

    from evprice.adapters.rllib import SHARED_POLICY_ID

    root = folder / "checkpoint" / "learner_group" / "learner" / "rl_module"
    env_id, overrides = run["env_id"], dict(run["overrides"])

    def factory(env: Any) -> Any:
        ids = [SHARED_POLICY_ID] * env.n_agents if run["shared_policy"] else list(env.agent_ids)
        missing = [m for m in dict.fromkeys(ids) if not (root / m).is_dir()]
        if missing:
            trained = sorted(p.name for p in root.iterdir() if p.is_dir())
            raise ConfigError(
                f"the RLlib run has no module for {missing}: it trained {trained}; "
                "change only config keys that keep the stations"
            )
        modules = {m: RLModule.from_checkpoint(str(root / m)) for m in dict.fromkeys(ids)}

        def policy(obs: np.ndarray) -> np.ndarray:
            import torch

            actions = np.zeros(obs.shape[:2] + (1,))
            with torch.no_grad():
                for i, m in enumerate(ids):
                    out = modules[m].forward_inference({"obs": torch.as_tensor(obs[:, i], dtype=torch.float32)})
                    actions[:, i, 0] = out["action_dist_inputs"][:, 0].numpy()  # the Gaussian's mean
            return np.clip(actions, -1.0, 1.0)

        policy.name = "rllib"  # type: ignore[attr-defined]  (the name evaluate reports)
        return policy

    factory.__name__ = "rllib"
    return env_id, overrides, factory


@contextmanager
def _ray_session(address: str | None, num_cpus: int) -> Iterator[None]:
    """Start (or join) Ray; on exit shut down what was started here, also on error."""
    import ray

    if ray.is_initialized():  # the caller's session: use it, leave it running
        yield
        return
    # a local instance keeps Ray's own default, token authentication: its gRPC ports listen on
    # every interface, so without the token anyone who reaches the machine could submit work
    auth_before = os.environ.get(AUTH_MODE_ENV_VAR)
    try:
        if address is None:
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address)
        try:
            yield
        finally:
            ray.shutdown()
    finally:  # Ray records the mode it chose in the environment: leave the caller's as it was
        if auth_before is None:
            os.environ.pop(AUTH_MODE_ENV_VAR, None)
        else:
            os.environ[AUTH_MODE_ENV_VAR] = auth_before


def _env_steps(result: Mapping[str, Any]) -> int:
    """Env steps sampled so far, from an RLlib (new API stack) result."""
    value = result.get("num_env_steps_sampled_lifetime")
    if value is None:
        value = result.get("env_runners", {}).get("num_env_steps_sampled_lifetime", 0)
    return int(value)


def _episode_return(result: Mapping[str, Any]) -> float:
    """Mean return (all agents' rewards summed) of the recently completed episodes, or NaN."""
    value = result.get("env_runners", {}).get("episode_return_mean")
    return math.nan if value is None else float(value)
