"""Load any trained checkpoint as a policy factory: PPO (MAPPO / IPPO), the safe planner or RLlib.

The one place that tells the two kinds apart, for ``evprice evaluate --checkpoint``,
``evprice replay`` and the experiments.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from evprice.core.config import ConfigError
from evprice.envs.market_env import MarketEnv


def load_trained(path: str | Path) -> tuple[str, dict[str, Any], Callable[[MarketEnv], Any]]:
    """``(env_id, overrides, factory)`` of a trained checkpoint (a run folder or ``.pt`` file):
    PPO (MAPPO / IPPO; :func:`evprice.learn.load_policy`), the safe planner
    (:func:`evprice.learn.safe.load_ccem`) or an RLlib run folder
    (:func:`evprice.learn.rllib_train.load_rllib`, needs Ray installed), as
    ``evprice evaluate --checkpoint`` loads them.
    ``factory(env)`` raises :class:`ConfigError` when ``env``'s stations or observations do not
    match the checkpoint's; a damaged or missing checkpoint raises
    :class:`evprice.learn.CheckpointError`. Needs torch."""
    from evprice.learn.checkpoint import CheckpointError, load_checkpoint, resolve_checkpoint
    from evprice.learn.policy import load_policy
    from evprice.learn.rllib_train import load_rllib, rllib_run_folder
    from evprice.learn.safe import load_ccem

    if rllib_run_folder(path) is not None:
        try:
            return load_rllib(path)
        except ImportError:
            raise CheckpointError(
                f"{str(path)!r} is an RLlib run: evaluating it needs Ray: pip install 'evprice[distributed]'"
            ) from None
    if load_checkpoint(resolve_checkpoint(path), kind=None)["kind"] == "ccem":
        env_id, overrides, planner_factory = load_ccem(path)
        planner_factory.__name__ = "ccem"
        return env_id, overrides, planner_factory
    env_id, overrides, trained = load_policy(path)

    def factory(env: MarketEnv) -> Any:
        if (env.n_agents, env.observation_size) != (trained.n_agents, trained.observation_size):
            raise ConfigError(
                f"the checkpoint's policy prices {trained.n_agents} stations from {trained.observation_size} "
                f"observation values each; this configuration has {env.n_agents} stations and "
                f"{env.observation_size} values: change only config keys that keep the stations and their "
                "observations"
            )
        return trained

    factory.__name__ = "checkpoint"
    return env_id, overrides, factory
