"""A trained actor as a :class:`evprice.policies.base.Policy`, and a quick evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from evprice.envs import make_env
from evprice.envs.market_env import MarketEnv
from evprice.learn.checkpoint import load_checkpoint
from evprice.learn.config import PPOConfig
from evprice.learn.networks import Actor
from evprice.learn.normalise import ObservationNormaliser
from evprice.market.theory import bertrand_nash, joint_optimum, logit_market, profit_gain
from evprice.policies.theory import defines_delta


class TrainedPolicy:
    """The deterministic policy of a trained actor: each station posts its action distribution's mean.

    ``policy(obs (B, N, D)) -> actions (B, N, 1)`` in [-1, 1] (the environment's layout);
    observations are normalised with the statistics frozen at training time. It reads
    ``n_agents`` stations with ``observation_size`` values each.
    """

    name = "checkpoint"

    def __init__(self, actor: Actor, obs_norm: ObservationNormaliser, device: torch.device | str = "cpu") -> None:
        self.actor = actor
        self.obs_norm = obs_norm
        self.device = torch.device(device)
        self.n_agents = int(actor.log_std.shape[0])
        self.observation_size = int(obs_norm.rms.mean.shape[-1])

    def reset(self, seed: int | None = None) -> None:
        return None

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(self.obs_norm(np.asarray(obs)), device=self.device)
        with torch.no_grad():
            mean = self.actor.mean(x)
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
    )
    actor.load_state_dict(data["actor"])
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
        ret += reward.mean(axis=1)
        profit += info["profit"].sum(axis=1)
        operating += (info["revenue"] - info["energy_cost"]).sum(axis=1)
    out = {"return": float(ret.mean()), "profit": float(profit.mean())}
    if defines_delta(env):
        market = logit_market(env.params)
        nash, joint = bertrand_nash(market).profits.sum(), joint_optimum(market).profits.sum()
        if joint - nash > 1e-12 * max(1.0, abs(nash)):  # a monopoly's Nash is its optimum: no index
            out["delta"] = float(profit_gain(operating / env.n_periods, nash, joint).mean())
    return out
