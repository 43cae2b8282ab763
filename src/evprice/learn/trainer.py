"""MAPPO / IPPO for the batched pricing environments, read top to bottom like CleanRL's PPO.

``train(env_id, config)`` runs ``config.n_updates`` updates. Each update:

1. **Rollout.** ``rollout_periods`` pricing periods of ``num_envs`` environments in one
   batch (:func:`evprice.envs.make_env`). Every station samples its action in [-1, 1]
   from its policy (Beta, or a Gaussian the environment clips) on its own (normalised)
   observation. The critic values each station from the global state (MAPPO) or from the
   station's own observation (IPPO). Episodes end together at the horizon, which ends the
   task (no bootstrap past it); the environments are then reset.
2. **Advantages.** GAE on the scaled rewards (:mod:`evprice.learn.gae`).
3. **Update.** ``update_epochs`` passes of ``minibatches`` minibatches over the rollout's
   ``num_envs x rollout_periods`` samples (all stations of a sample together), PPO's
   clipped loss (:mod:`evprice.learn.ppo`), Adam, gradient clipping.
4. **Log, evaluate, checkpoint.** A metrics row (CSV, TensorBoard when installed, and the
   ``on_update`` callback); every ``eval_every_updates`` the deterministic policy (the
   distributions' means) plays ``eval_episodes`` episodes of a separate environment (same seed
   each time); every ``checkpoint_every_updates`` and at the end ``checkpoints/last.pt``.

Seeded and deterministic on the CPU: the trainer owns its seed (``torch.manual_seed`` for
the initial weights and the Beta sampler, a ``torch.Generator`` for Gaussian noise and
minibatches; the environments are seeded from it).

The horizon ends the task (no bootstrap past it): right for the scenarios' one-day
episodes, whose observation carries the time of day. For episodes longer than a day the
observation repeats while the remaining horizon differs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evprice.core.config import ConfigError
from evprice.envs import make_env
from evprice.envs.market_env import MarketEnv
from evprice.learn.checkpoint import CheckpointError, load_checkpoint, resolve_checkpoint, save_checkpoint
from evprice.learn.config import PPOConfig
from evprice.learn.gae import gae
from evprice.learn.networks import Actor, Critic
from evprice.learn.normalise import ObservationNormaliser, RewardScaler
from evprice.learn.policy import TrainedPolicy, evaluate_policy
from evprice.learn.ppo import ppo_losses
from evprice.learn.runlog import RunLog

METRICS = (
    "update",
    "env_steps",
    "time_s",
    "steps_per_s",
    "episodic_return",
    "profit",
    "policy_loss",
    "value_loss",
    "entropy",
    "approx_kl",
    "clip_fraction",
    "learning_rate",
    "action_std",
    "eval_return",
    "eval_profit",
    "eval_delta",
)
"""Columns of ``metrics.csv`` (``episodic_return``: mean over stations of the summed raw
rewards of the episodes finished during the update; ``profit``: their joint profit per
episode, currency; ``eval_*``: the deterministic policy, blank between evaluations)."""


STRUCTURAL = ("algo", "hidden_sizes", "policy_distribution", "share_parameters", "normalise_obs")
"""Settings that shape the networks or their inputs: a resumed run cannot change them."""


def resume_config(saved: Mapping[str, Any], changes: Mapping[str, Any]) -> PPOConfig:
    """The checkpoint's config ``saved`` with ``changes`` applied; refuses structural changes."""
    base = PPOConfig.from_overrides(saved)
    new = PPOConfig.from_overrides({**saved, **changes})
    for key in STRUCTURAL:
        if getattr(new, key) != getattr(base, key):
            raise ConfigError(
                f"{key}={getattr(new, key)!r} cannot change on resume: the checkpoint was trained with "
                f"{key}={getattr(base, key)!r}"
            )
    return new


def run_folder(checkpoint: str | Path) -> Path:
    """The run folder of a checkpoint (``RUN/checkpoints/last.pt`` -> ``RUN``)."""
    path = resolve_checkpoint(checkpoint)
    return path.parent.parent if path.parent.name == "checkpoints" else path.parent


def _device(cfg: PPOConfig) -> torch.device:
    if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def build_learner(env: MarketEnv, cfg: PPOConfig, device: torch.device) -> dict[str, Any]:
    """Actor, critic and normalisers sized for ``env``."""
    n, d = env.n_agents, env.observation_size
    s_low, s_high = env.layout.state_bounds
    centralised = cfg.algo == "mappo"
    critic_in = env.state_size if centralised else d
    return {
        "actor": Actor(n, d, cfg.hidden_sizes, cfg.share_parameters, cfg.init_log_std, cfg.policy_distribution).to(
            device
        ),
        "critic": Critic(n, critic_in, cfg.hidden_sizes, cfg.share_parameters, centralised).to(device),
        "obs_norm": ObservationNormaliser(cfg.normalise_obs, env.observation_low, env.observation_high),
        "state_norm": ObservationNormaliser(cfg.normalise_obs, s_low, s_high),
        "reward_scaler": RewardScaler((n,), cfg.gamma, cfg.normalise_reward),
    }


def train(
    env_id: str,
    config: PPOConfig | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    out_dir: str | Path | None = None,
    resume: str | Path | None = None,
    on_update: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train stations on ``env_id`` (with config ``overrides``); returns the last metrics row.

    ``out_dir`` receives ``config.yaml``, ``metrics.csv``, ``tb/`` (TensorBoard) and
    ``checkpoints/last.pt``. ``resume`` continues from a checkpoint: its environment and
    overrides (``env_id`` must match, ``overrides`` must be None or equal) and its config,
    or ``config`` when given, which may change anything but the networks' structure
    (:data:`STRUCTURAL`); the environments restart with fresh episodes.
    """
    cfg = config or PPOConfig()
    state: dict[str, Any] | None = None
    if resume is not None:
        state = load_checkpoint(resume)
        if env_id != state["env_id"] or (overrides is not None and dict(overrides) != state["overrides"]):
            raise ConfigError(
                f"resume: the checkpoint trained {state['env_id']!r} with overrides {state['overrides']!r}; "
                f"got {env_id!r} with {overrides!r} (a resumed run keeps its environment)"
            )
        overrides = state["overrides"]
        cfg = resume_config(state["config"], {} if config is None else config.to_dict())
    overrides = dict(overrides or {})
    device = _device(cfg)
    if cfg.torch_threads is not None:
        torch.set_num_threads(cfg.torch_threads)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)

    env = make_env(env_id, cfg.num_envs, **overrides)
    eval_env = make_env(env_id, cfg.eval_episodes, **overrides)
    learner = build_learner(env, cfg, device)
    actor, critic = learner["actor"], learner["critic"]
    obs_norm, state_norm, reward_scaler = learner["obs_norm"], learner["state_norm"], learner["reward_scaler"]
    params = list(actor.parameters()) + list(critic.parameters())
    optimizer = torch.optim.Adam(params, lr=cfg.learning_rate, eps=1e-5)
    first_update = 1
    if state is not None:
        try:
            actor.load_state_dict(state["actor"])
            critic.load_state_dict(state["critic"])
            optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError) as err:
            raise CheckpointError(f"resume: the checkpoint's networks do not fit this run ({err})") from None
        obs_norm.load_state_dict(state["obs_norm"])
        state_norm.load_state_dict(state["state_norm"])
        reward_scaler.load_state_dict(state["reward_scaler"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        first_update = int(state["update"]) + 1

    out = Path(out_dir) if out_dir is not None else None
    log = RunLog(out, {"env": env_id, "overrides": overrides, "ppo": cfg.to_dict()}, METRICS, state is not None)

    b, n, t_len = cfg.num_envs, env.n_agents, cfg.rollout_periods
    obs_buf = torch.zeros((t_len, b, n, env.observation_size), device=device)
    state_buf = torch.zeros((t_len, b, env.state_size), device=device)
    act_buf = torch.zeros((t_len, b, n, 1), device=device)
    logp_buf = torch.zeros((t_len, b, n), device=device)
    rew_buf = torch.zeros((t_len, b, n), device=device)
    done_buf = torch.zeros((t_len, b, 1), device=device)
    val_buf = torch.zeros((t_len, b, n), device=device)

    env_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
    raw_obs = env.reset(seed=env_seed)
    raw_state = env.global_state()
    ep_return = np.zeros((b, n))
    ep_profit = np.zeros(b)
    start = time.perf_counter()
    env_steps = 0 if state is None else int(state["env_steps"])
    row: dict[str, Any] = {}

    for update in range(first_update, cfg.n_updates + 1):
        lr = cfg.learning_rate * (1.0 - (update - 1) / cfg.n_updates) if cfg.anneal_lr else cfg.learning_rate
        for group in optimizer.param_groups:
            group["lr"] = lr
        finished_returns: list[np.ndarray] = []
        finished_profits: list[np.ndarray] = []

        # 1. rollout
        for t in range(t_len):
            obs_norm.update(raw_obs)
            state_norm.update(raw_state)
            obs_t = torch.as_tensor(obs_norm(raw_obs), device=device)
            state_t = torch.as_tensor(state_norm(raw_state), device=device)
            with torch.no_grad():
                dist = actor.distribution(obs_t)
                action = dist.sample(gen)
                logp = dist.log_prob(action).sum(-1)
                value = critic(state_t if cfg.algo == "mappo" else obs_t)
            raw_obs, reward, terminated, truncated, info = env.step(action.cpu().numpy())
            done = terminated | truncated
            ep_return += reward
            ep_profit += info["profit"].sum(axis=1)
            obs_buf[t], state_buf[t], act_buf[t], logp_buf[t], val_buf[t] = obs_t, state_t, action, logp, value
            rew_buf[t] = torch.as_tensor(reward_scaler(reward, done), device=device)
            done_buf[t] = torch.as_tensor(done[:, None], dtype=torch.float32, device=device)
            env_steps += b
            if done.all():  # every member ends at the horizon together
                finished_returns.append(ep_return.mean(axis=1))
                finished_profits.append(ep_profit.copy())
                ep_return[:], ep_profit[:] = 0.0, 0.0
                raw_obs = env.reset()
            raw_state = env.global_state()

        # 2. advantages
        with torch.no_grad():
            obs_t = torch.as_tensor(obs_norm(raw_obs), device=device)
            state_t = torch.as_tensor(state_norm(raw_state), device=device)
            last_value = critic(state_t if cfg.algo == "mappo" else obs_t)
            advantages, returns = gae(rew_buf, val_buf, done_buf, last_value, cfg.gamma, cfg.gae_lambda)

        # 3. update
        flat = lambda x: x.reshape((t_len * b,) + x.shape[2:])  # noqa: E731
        f_obs, f_state, f_act, f_logp = flat(obs_buf), flat(state_buf), flat(act_buf), flat(logp_buf)
        f_adv, f_ret, f_val = flat(advantages), flat(returns), flat(val_buf)
        size = t_len * b
        stats = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0, "approx_kl": 0.0, "clip_fraction": 0.0}
        count = 0
        for _ in range(cfg.update_epochs):
            order = torch.randperm(size, generator=gen).to(device)
            for idx in torch.tensor_split(order, cfg.minibatches):
                dist = actor.distribution(f_obs[idx])
                new_logp = dist.log_prob(f_act[idx]).sum(-1)
                entropy = dist.entropy().sum(-1).mean()
                new_value = critic(f_state[idx] if cfg.algo == "mappo" else f_obs[idx])
                adv = f_adv[idx]
                if adv.numel() > 1:  # (a one-sample minibatch has no spread to normalise by)
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                losses = ppo_losses(
                    new_logp, f_logp[idx], adv, new_value, f_val[idx], f_ret[idx], cfg.clip_coef, cfg.clip_value
                )
                loss = losses.policy + cfg.value_coef * losses.value - cfg.entropy_coef * entropy
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                optimizer.step()
                for k, v in zip(stats, (losses.policy, losses.value, entropy, losses.approx_kl, losses.clip_fraction)):
                    stats[k] += float(v.detach())
                count += 1
            if cfg.target_kl is not None and float(losses.approx_kl) > cfg.target_kl:
                break

        # 4. log, evaluate, checkpoint
        elapsed = time.perf_counter() - start
        row = {
            "update": update,
            "env_steps": env_steps,
            "time_s": elapsed,
            "steps_per_s": (update - first_update + 1) * cfg.steps_per_update / max(elapsed, 1e-9),
            "episodic_return": float(np.concatenate(finished_returns).mean()) if finished_returns else None,
            "profit": float(np.concatenate(finished_profits).mean()) if finished_profits else None,
            **{k: v / count for k, v in stats.items()},
            "learning_rate": lr,
            "action_std": float(f_act.std()),
            "eval_return": None,
            "eval_profit": None,
            "eval_delta": None,
        }
        last = update == cfg.n_updates
        if last or (cfg.eval_every_updates and update % cfg.eval_every_updates == 0):
            policy = TrainedPolicy(actor, obs_norm, device)
            result = evaluate_policy(eval_env, policy, seed=cfg.seed + 1)
            row.update(eval_return=result["return"], eval_profit=result["profit"], eval_delta=result.get("delta"))
        log.write(row, row["env_steps"])
        if out is not None and (last or update % cfg.checkpoint_every_updates == 0):
            payload = {
                "env_id": env_id,
                "overrides": overrides,
                "n_agents": env.n_agents,
                "observation_size": env.observation_size,
                "config": cfg.to_dict(),
                "update": update,
                "env_steps": env_steps,
                "actor": actor.state_dict(),
                "critic": critic.state_dict(),
                "optimizer": optimizer.state_dict(),
                "obs_norm": obs_norm.state_dict(),
                "state_norm": state_norm.state_dict(),
                "reward_scaler": reward_scaler.state_dict(),
                "generator": gen.get_state(),
                "torch_rng": torch.get_rng_state(),
                "metrics": {k: v for k, v in row.items() if v is not None},
            }
            save_checkpoint(out / "checkpoints" / "last.pt", payload)
        if on_update is not None:
            on_update(row)

    log.close()
    return row
