"""A trained actor as a :class:`evprice.policies.base.Policy`, and quick evaluations (one
policy, or K seeds' policies at once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from evprice.envs import make_env
from evprice.envs.market_env import MarketEnv
from evprice.learn.checkpoint import CheckpointError, load_checkpoint
from evprice.learn.config import PPOConfig
from evprice.learn.networks import Actor, load_seed_state
from evprice.learn.normalise import ObservationNormaliser
from evprice.learn.seed_envs import SeedEnvs
from evprice.market.theory import profit_gain
from evprice.policies.theory import defines_delta, delta_ends, gain_is_defined


class TrainedPolicy:
    """The deterministic policy of a trained actor: each station posts its action distribution's mean.

    ``policy(obs (B, N, D)) -> actions (B, N, A)`` in [-1, 1] (the environment's layout:
    ``A = 1`` without a coordination protocol);
    observations are normalised with the statistics frozen at training time. It reads
    ``n_agents`` stations with ``observation_size`` values each.
    """

    name = "checkpoint"

    def __init__(self, actor: Actor, obs_norm: ObservationNormaliser, device: torch.device | str = "cpu") -> None:
        if actor.seeds != 1 or obs_norm.seeds is not None:
            raise ValueError("TrainedPolicy takes one seed's actor and normaliser (seeds=1 / None)")
        self.actor = actor
        self.obs_norm = obs_norm
        self.device = torch.device(device)
        self.n_agents = int(actor.log_std.shape[1])
        self.observation_size = int(obs_norm.rms.mean.shape[-1])

    def reset(self, seed: int | None = None) -> None:
        return None

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(self.obs_norm(np.asarray(obs)), device=self.device)
        with torch.no_grad():
            mean = self.actor.mean(x[None])[0]
        return np.clip(mean.cpu().numpy().astype(np.float64), -1.0, 1.0)


def load_policy(path: str | Path) -> tuple[str, dict[str, Any], TrainedPolicy]:
    """``(env_id, overrides, policy)`` of a checkpoint (a ``.pt`` file or a run folder)."""
    data = load_checkpoint(path)
    cfg = PPOConfig.from_overrides(data["config"])
    env = make_env(data["env_id"], 1, **data["overrides"])
    actor = Actor(
        env.n_agents,
        env.observation_size,
        cfg.hidden_sizes,
        cfg.share_parameters,
        cfg.init_log_std,
        cfg.policy_distribution,
        action_dim=env.action_size,
        action_mask=env.action_mask,
    )
    try:
        load_seed_state(actor, 0, data["actor"])
    except ValueError as err:
        raise CheckpointError(f"checkpoint {str(path)!r}: its actor does not fit its environment ({err})") from None
    obs_norm = ObservationNormaliser(cfg.normalise_obs, env.observation_low, env.observation_high)
    obs_norm.load_state_dict(data["obs_norm"])
    return data["env_id"], dict(data["overrides"]), TrainedPolicy(actor.eval(), obs_norm)


def evaluate_policy(env: MarketEnv, policy: Any, seed: int) -> dict[str, float]:
    """One episode of each of ``env``'s members under ``policy``.

    Returns the mean over episodes of ``return`` (summed rewards, mean over stations),
    ``profit`` (joint, currency) and, on logit markets, ``delta`` (the market's profit-gain
    index of the per-period operating profit).
    """
    obs = env.reset(seed=seed)
    ret = np.zeros(env.num_envs)
    profit = np.zeros(env.num_envs)
    operating = np.zeros(env.num_envs)
    for _ in range(env.n_periods):
        obs, reward, _, _, info = env.step(policy(obs))
        ret += reward[:, : env.n_stations].mean(axis=1)  # the stations' (not a mediator's)
        profit += info["profit"].sum(axis=1)
        operating += (info["revenue"] - info["energy_cost"]).sum(axis=1)
    return _episode_summary(env, ret, profit, operating, _delta_bounds(env))


def evaluate_seeds(
    envs: SeedEnvs, actor: Actor, obs_norm: ObservationNormaliser, seeds: list[int], device: torch.device
) -> list[dict[str, float]]:
    """:func:`evaluate_policy` of K seeds' deterministic policies at once: seed ``k``'s policy
    (``actor`` and ``obs_norm`` with a seed axis) plays one episode of each member of
    ``envs.envs[k]``, reset with ``seeds[k]``; one forward pass per period for all seeds.
    Returns one summary per seed, equal to :func:`evaluate_policy` of that seed's
    :class:`TrainedPolicy`, with ``price`` too: the mean posted price (currency/kWh) over
    periods, stations and episodes; and where ``envs`` has ``cost_terms``, ``cost``: the mean
    episode cost of each constraint (a list of C)."""
    obs = envs.reset(seeds)
    k, b = obs.shape[:2]
    ret, profit, operating = np.zeros((k, b)), np.zeros((k, b)), np.zeros((k, b))
    price = np.zeros(k)
    cost = np.zeros((k, b, len(envs.cost_terms)))
    for _ in range(envs.first.n_periods):
        x = torch.as_tensor(obs_norm(obs), device=device)
        with torch.no_grad():
            action = actor.mean(x).cpu().numpy().astype(np.float64).clip(-1.0, 1.0)
        obs, reward, _, _, info = envs.step(action)
        ret += reward[..., : envs.first.n_stations].mean(axis=2)
        profit += info["profit"].sum(axis=2)
        operating += (info["revenue"] - info["energy_cost"]).sum(axis=2)
        price += info["price"].mean(axis=(1, 2))
        if envs.cost_terms:
            cost += info["constraint_cost"]
    bounds = _delta_bounds(envs.first)
    out = [_episode_summary(envs.first, ret[j], profit[j], operating[j], bounds) for j in range(k)]
    for j in range(k):
        out[j]["price"] = float(price[j] / envs.first.n_periods)
        if envs.cost_terms:
            out[j]["cost"] = cost[j].mean(axis=0).tolist()
    return out


def _delta_bounds(env: MarketEnv) -> tuple[float, float] | None:
    """The joint Nash and joint-optimum profits per period of a logit market that defines Delta."""
    if not defines_delta(env):
        return None
    nash, joint = (ends.sum() for ends in delta_ends(env))
    if not gain_is_defined(nash, joint):  # a monopoly's Nash is its optimum: no index
        return None
    return float(nash), float(joint)


def _episode_summary(
    env: MarketEnv, ret: np.ndarray, profit: np.ndarray, operating: np.ndarray, bounds: tuple[float, float] | None
) -> dict[str, float]:
    """Means over episodes (B,) of the return and the joint profit, and Delta where ``bounds``."""
    out = {"return": float(ret.mean()), "profit": float(profit.mean())}
    if bounds is not None:
        out["delta"] = float(profit_gain(operating / env.n_periods, *bounds).mean())
    return out
