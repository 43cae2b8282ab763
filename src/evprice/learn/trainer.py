"""MAPPO / IPPO for the batched pricing environments, read top to bottom like CleanRL's PPO.

``train(env_id, config)`` runs ``config.n_updates`` updates of one run;
``train(env_id, config, seeds=[s0, ..., sK-1])`` runs K independent runs at once: every
tensor carries a leading seed axis ``K`` (parameters, optimiser moments, normalisers,
buffers), every layer is one batched matmul over the seeds, and each seed has its own
environments (:class:`~evprice.learn.seed_envs.SeedEnvs`) and its own ``torch.Generator``.
Nothing is shared across seeds: not the advantage normalisation, the minibatch order, the
gradient-norm clipping, Adam's step count or the early stop. Each update:

1. **Rollout.** ``rollout_periods`` pricing periods of ``num_envs`` environments per seed.
   Every station samples its action in [-1, 1] from its policy (Beta, or a Gaussian the
   environment clips) on its own (normalised) observation. The critic values each station
   from the global state (MAPPO) or from the station's own observation (IPPO). Episodes end
   together at the horizon, which ends the task (no bootstrap past it); the environments
   are then reset.
2. **Advantages.** GAE on the scaled rewards (:mod:`evprice.learn.gae`).
3. **Update.** ``update_epochs`` passes of ``minibatches`` minibatches over each seed's
   ``num_envs x rollout_periods`` samples (all stations of a sample together), PPO's
   clipped loss (:mod:`evprice.learn.ppo`), per-seed Adam and gradient clipping
   (:mod:`evprice.learn.optim`); with ``target_kl`` a seed whose approximate KL passes it
   stops its epochs while the others go on.
   With ``algo="mappo-lag"`` / ``"ippo-lag"`` (:mod:`evprice.learn.lagrange`) a cost critic
   (one head per constraint) is trained beside the critic on the raw costs, each seed's
   multipliers move with the mean cost of its episodes finished in the rollout, and the
   policy follows ``(A_R - sum_c lambda_c A_C_c) / (1 + sum_c lambda_c)``.
4. **Log, evaluate, checkpoint.** A metrics row per seed (CSV, TensorBoard when installed;
   the ``on_update`` callback gets their mean); every ``eval_every_updates`` the
   deterministic policies (the distributions' means) play ``eval_episodes`` episodes of
   separate environments (``eval_seed``, by default seed + 1, each time); every
   ``checkpoint_every_updates`` and at the end ``checkpoints/last.pt`` per seed.

Seeded and deterministic on the CPU: the trainer owns its seeds. Seed ``s``'s generator,
``torch.Generator().manual_seed(s)``, draws its initial weights (actor, then critic), its
environments' seed, its action noise (Gaussian noise, or the Beta's two gamma draws) and its
minibatch order, so seed ``s``'s run does not depend on the seeds trained beside it, up to
the float rounding of batched matmuls (tested: seed 3 alone against seed 3 among four).

The horizon ends the task (no bootstrap past it): right for the scenarios' one-day
episodes, whose observation carries the time of day. For episodes longer than a day the
observation repeats while the remaining horizon differs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evprice.core.config import ConfigError
from evprice.envs.market_env import MarketEnv
from evprice.learn.checkpoint import (
    CheckpointError,
    load_checkpoint,
    resolve_checkpoint,
    save_checkpoint,
    seed_folders,
)
from evprice.learn.config import PPOConfig
from evprice.learn.device import resolve_device
from evprice.learn.gae import gae
from evprice.learn.lagrange import Multipliers, center_per_seed, cost_gae, lagrangian_advantages
from evprice.learn.networks import Actor, Critic, load_seed_state, seed_state
from evprice.learn.normalise import ObservationNormaliser, RewardScaler
from evprice.learn.optim import SeedAdam, clip_grad_norm_per_seed
from evprice.learn.policy import evaluate_seeds
from evprice.learn.ppo import LOSS_METRICS, explained_variance, normalise_advantages, ppo_losses
from evprice.learn.runlog import RunLog, mean_row
from evprice.learn.seed_envs import SeedEnvs

METRICS = (
    "update",
    "env_steps",
    "seed",
    "time_s",
    "steps_per_s",
    "episodic_return",
    "profit",
    "policy_loss",
    "value_loss",
    "entropy",
    "approx_kl",
    "clip_fraction",
    "explained_variance",
    "learning_rate",
    "policy_std",
    "action_std",
    "eval_return",
    "eval_profit",
    "eval_price",
    "eval_delta",
)
"""Columns of ``metrics.csv`` (``episodic_return``: mean over stations of the summed raw
rewards of the episodes finished during the update; ``profit``: their joint profit per
episode, currency; ``explained_variance``: of the rollout's value targets by the critic;
``policy_std``: the policy distribution's own standard deviation in action units, mean over
the rollout; ``action_std``: the spread of the sampled actions; ``eval_*``: the
deterministic policy, blank between evaluations; ``eval_price``: its mean posted price,
currency/kWh, over periods, stations and episodes)."""


LAG_METRICS = ("cost_value_loss",)
"""Columns a Lagrangian run adds, before one ``episode_cost_<c>``, ``lambda_<c>`` and
``eval_cost_<c>`` per constraint ``c`` (:func:`lag_metrics`)."""


def lag_metrics(terms: Sequence[str]) -> tuple[str, ...]:
    """The columns a Lagrangian run over constraints ``terms`` adds to :data:`METRICS`:
    ``episode_cost_<c>`` (mean cost of the episodes finished during the update),
    ``lambda_<c>`` (the multiplier the update used) and ``eval_cost_<c>`` (the deterministic
    policy's mean episode cost)."""
    per = lambda prefix: tuple(f"{prefix}_{t}" for t in terms)  # noqa: E731
    return LAG_METRICS + per("episode_cost") + per("lambda") + per("eval_cost")


STRUCTURAL = ("algo", "hidden_sizes", "policy_distribution", "share_parameters", "normalise_obs", "cost_terms")
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


def build_learner(
    env: MarketEnv, cfg: PPOConfig, device: torch.device, generators: list[torch.Generator]
) -> dict[str, Any]:
    """Actor, critic (and for a Lagrangian run the cost critic, one head per constraint) and
    normalisers sized for ``env``, with one seed axis entry per generator (seed ``k``'s initial
    weights drawn from ``generators[k]``: actor first, then critic, then cost critic)."""
    n, d, k = env.n_agents, env.observation_size, len(generators)
    s_low, s_high = env.layout.state_bounds
    centralised = cfg.centralised
    critic_in = env.state_size if centralised else d
    shape = (cfg.hidden_sizes, cfg.share_parameters)
    actor = Actor(
        n,
        d,
        *shape,
        cfg.init_log_std,
        cfg.policy_distribution,
        seeds=k,
        generators=generators,
        action_dim=env.action_size,
        action_mask=env.action_mask,
    )
    critic = Critic(n, critic_in, *shape, centralised, seeds=k, generators=generators)
    cost_critic = None
    if cfg.constrained:
        heads = len(cfg.cost_terms)
        cost_critic = Critic(n, critic_in, *shape, centralised, seeds=k, generators=generators, heads=heads)
        cost_critic = cost_critic.to(device)
    return {
        "actor": actor.to(device),
        "critic": critic.to(device),
        "cost_critic": cost_critic,
        "obs_norm": ObservationNormaliser(cfg.normalise_obs, env.observation_low, env.observation_high, seeds=k),
        "state_norm": ObservationNormaliser(cfg.normalise_obs, s_low, s_high, seeds=k),
        "reward_scaler": RewardScaler((n,), cfg.gamma, cfg.normalise_reward, seeds=k),
    }


def _seed_list(seeds: Sequence[int]) -> list[int]:
    """``seeds`` checked: non-negative integers, none twice, at least one."""
    out = []
    for i, s in enumerate(seeds):
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ConfigError(f"seeds[{i}]={s!r} is invalid: expected a non-negative integer")
        if int(s) in out:
            raise ConfigError(f"seeds[{i}]={s!r} is invalid: seed {s} is listed twice (each seed is one run)")
        out.append(int(s))
    if not out:
        raise ConfigError("seeds=[] is invalid: expected at least one seed")
    return out


def _resume_states(resume: str | Path) -> tuple[list[dict[str, Any]], bool]:
    """The checkpoints to resume, in seed order, and whether they form a run of seed folders."""
    folders = seed_folders(resume)
    if not folders:
        return [load_checkpoint(resume)], False
    states = [load_checkpoint(folder) for folder in folders.values()]
    first = states[0]
    for s, state in zip(folders, states):
        if state["env_id"] != first["env_id"] or state["overrides"] != first["overrides"]:
            raise CheckpointError(f"resume: {folders[s]} trained another environment than the run's other seeds")
        if {**state["config"], "seed": 0} != {**first["config"], "seed": 0}:
            raise CheckpointError(f"resume: {folders[s]} has other PPO settings than the run's other seeds")
    return states, True


def _seed_dirs(out: Path | None, seeds: list[int], batched: bool) -> list[Path | None]:
    """Where each seed's outputs go: ``out`` itself for one unbatched run, else ``out/seed_<s>``."""
    if out is None:
        return [None] * len(seeds)
    return [out / f"seed_{s}" for s in seeds] if batched else [out]


def train(
    env_id: str,
    config: PPOConfig | None = None,
    *,
    seeds: Sequence[int] | None = None,
    overrides: Mapping[str, Any] | None = None,
    out_dir: str | Path | None = None,
    resume: str | Path | None = None,
    on_update: Callable[[dict[str, Any]], None] | None = None,
) -> Any:
    """Train stations on ``env_id`` (with config ``overrides``).

    ``seeds=None``: one run with ``config.seed``; returns its last metrics row (a dict), and
    ``out_dir`` receives ``config.yaml``, ``metrics.csv``, ``tb/`` (TensorBoard) and
    ``checkpoints/last.pt``. ``seeds=[s0, ..., sK-1]``: K independent runs in one process,
    every operation batched over a leading seed axis (``config.seed`` is ignored); returns
    the list of their last rows, in ``seeds`` order, and ``out_dir/seed_<s>/`` receives each
    run's folder as above. Seed ``s``'s run is the same whichever seeds train beside it (to
    float rounding of the batched matmuls).

    ``resume`` continues from a checkpoint or run folder (a folder of ``seed_<s>`` runs
    resumes all its seeds; ``seeds`` must then be None or the same): its environment and
    overrides (``env_id`` must match, ``overrides`` must be None or equal) and its config, or
    ``config`` when given, which may change anything but the networks' structure
    (:data:`STRUCTURAL`); the environments restart with fresh episodes.

    ``on_update(row)`` is called after every update with the mean over seeds of each
    metric (None where any seed has none) and ``seeds`` = K.
    """
    cfg = config or PPOConfig()
    states: list[dict[str, Any]] | None = None
    batched = seeds is not None
    if resume is not None:
        states, from_folders = _resume_states(resume)
        first = states[0]
        if env_id != first["env_id"] or (overrides is not None and dict(overrides) != first["overrides"]):
            raise ConfigError(
                f"resume: the checkpoint trained {first['env_id']!r} with overrides {first['overrides']!r}; "
                f"got {env_id!r} with {overrides!r} (a resumed run keeps its environment)"
            )
        saved_seeds = [int(state["config"]["seed"]) for state in states]
        if seeds is not None and _seed_list(seeds) != saved_seeds:
            raise ConfigError(f"resume: the run trained seeds {saved_seeds}; got seeds={list(seeds)}")
        seeds, batched = saved_seeds, from_folders
        overrides = first["overrides"]
        cfg = resume_config(
            first["config"], {} if config is None else {**config.to_dict(), "seed": first["config"]["seed"]}
        )
    seed_list = _seed_list([cfg.seed] if seeds is None else seeds)
    overrides = dict(overrides or {})
    threads = torch.get_num_threads()
    if cfg.torch_threads is not None:
        torch.set_num_threads(cfg.torch_threads)
    try:
        rows = _train(env_id, cfg, seed_list, overrides, out_dir, states, on_update, batched)
    finally:
        torch.set_num_threads(threads)  # the caller's process keeps its own setting
    return rows if batched else rows[0]


def _train(
    env_id: str,
    cfg: PPOConfig,
    seed_list: list[int],
    overrides: dict[str, Any],
    out_dir: str | Path | None,
    states: list[dict[str, Any]] | None,
    on_update: Callable[[dict[str, Any]], None] | None,
    batched: bool,
) -> list[dict[str, Any]]:
    """The loop of :func:`train`: K = ``len(seed_list)`` runs, from ``states`` when resuming;
    returns each seed's last metrics row."""
    device = resolve_device(cfg.device)
    gens = [torch.Generator().manual_seed(s) for s in seed_list]
    n_seeds = len(seed_list)

    terms = cfg.cost_terms if cfg.constrained else ()
    envs = SeedEnvs(env_id, cfg.num_envs, overrides, n_seeds, terms)
    eval_envs = SeedEnvs(env_id, cfg.eval_episodes, overrides, n_seeds, terms)
    env = envs.first
    learner = build_learner(env, cfg, device, gens)
    actor, critic, cost_critic = learner["actor"], learner["critic"], learner["cost_critic"]
    obs_norm, state_norm, reward_scaler = learner["obs_norm"], learner["state_norm"], learner["reward_scaler"]
    params = list(actor.parameters()) + list(critic.parameters())
    if cost_critic is not None:
        params += list(cost_critic.parameters())
    optimizer = SeedAdam(params, n_seeds, lr=cfg.learning_rate, eps=1e-5)
    n_costs = len(terms)
    multipliers = Multipliers(
        cfg.cost_limits if terms else (),
        n_seeds,
        cfg.multiplier,
        cfg.lambda_lr,
        cfg.pid_kp,
        cfg.pid_kd,
        cfg.lambda_init,
    )
    first_update = 1
    if states is not None:
        for k, state in enumerate(states):
            try:
                load_seed_state(actor, k, state["actor"])
                load_seed_state(critic, k, state["critic"])
                if cost_critic is not None:
                    load_seed_state(cost_critic, k, state["cost_critic"])
                    multipliers.load_seed_state(k, state["multipliers"])
                optimizer.load_seed_state(k, state["optimizer"])
            except (RuntimeError, ValueError, KeyError) as err:
                raise CheckpointError(f"resume: the checkpoint's networks do not fit this run ({err})") from None
            obs_norm.load_seed_state(k, state["obs_norm"])
            state_norm.load_seed_state(k, state["state_norm"])
            reward_scaler.load_seed_state(k, state["reward_scaler"])
            gens[k].set_state(state["generator"])
        first_update = int(states[0]["update"]) + 1

    out = Path(out_dir) if out_dir is not None else None
    dirs = _seed_dirs(out, seed_list, batched)
    logs = [
        RunLog(
            d,
            {"env": env_id, "overrides": overrides, "ppo": cfg.replace(seed=s).to_dict()},
            METRICS + (lag_metrics(terms) if terms else ()),
            states is not None,
        )
        for d, s in zip(dirs, seed_list)
    ]

    k_, b, n, t_len = n_seeds, cfg.num_envs, env.n_agents, cfg.rollout_periods
    # seed-major buffers (K, T, B, ...): each seed's samples are one block, flattened without a copy
    obs_buf = torch.zeros((k_, t_len, b, n, env.observation_size), device=device)
    state_buf = torch.zeros((k_, t_len, b, env.state_size), device=device)
    act_buf = torch.zeros((k_, t_len, b, n, env.action_size), device=device)
    logp_buf = torch.zeros((k_, t_len, b, n), device=device)
    rew_buf = torch.zeros((k_, t_len, b, n), device=device)
    done_buf = torch.zeros((k_, t_len, b, 1), device=device)
    val_buf = torch.zeros((k_, t_len, b, n), device=device)
    cost_buf = torch.zeros((k_, t_len, b, n_costs), device=device)  # the same for every station
    cval_buf = torch.zeros((k_, t_len, b, n, n_costs), device=device)

    ep_return = np.zeros((k_, b, n))
    ep_profit = np.zeros((k_, b))
    ep_cost = np.zeros((k_, b, n_costs))
    if states is not None and all(state.get("envs", {}).get("num_envs") == b for state in states):
        # the environments and the episodes in progress as they were: the run goes on as if never stopped
        for k, state in enumerate(states):
            envs.restore(k, state["envs"])
            ep_return[k] = np.asarray(state["episode"]["return"], dtype=np.float64)
            ep_profit[k] = np.asarray(state["episode"]["profit"], dtype=np.float64)
            if n_costs:
                ep_cost[k] = np.asarray(state["episode"]["cost"], dtype=np.float64)
        raw_obs = envs.observe()
    else:  # a new run, a resume with another num_envs, or a checkpoint that kept no environments: new episodes
        env_seeds = [int(torch.randint(0, 2**31 - 1, (1,), generator=g)) for g in gens]
        raw_obs = envs.reset(env_seeds)
    raw_state = envs.global_state()
    start = time.perf_counter()
    env_steps = 0 if states is None else int(states[0]["env_steps"])
    rows: list[dict[str, Any]] = []

    for update in range(first_update, cfg.n_updates + 1):
        lr = cfg.learning_rate * (1.0 - (update - 1) / cfg.n_updates) if cfg.anneal_lr else cfg.learning_rate
        optimizer.lr = lr
        finished_returns: list[np.ndarray] = []  # each (K, B)
        finished_profits: list[np.ndarray] = []
        finished_costs: list[np.ndarray] = []  # each (K, B, C)
        policy_std = torch.zeros(k_)

        # 1. rollout
        for t in range(t_len):
            obs_norm.update(raw_obs)
            state_norm.update(raw_state)
            obs_t = torch.as_tensor(obs_norm(raw_obs), device=device)
            state_t = torch.as_tensor(state_norm(raw_state), device=device)
            with torch.no_grad():
                dist = actor.distribution(obs_t)
                action = dist.sample(gens)
                logp = actor.log_prob(dist, action)
                critic_t = state_t if cfg.centralised else obs_t
                value = critic(critic_t)
                if cost_critic is not None:
                    cval_buf[:, t] = cost_critic(critic_t)
                policy_std += actor.spread(dist).cpu()
            raw_obs, reward, terminated, truncated, info = envs.step(action.cpu().numpy())
            done = terminated | truncated  # (K, B)
            ep_return += reward
            ep_profit += info["profit"].sum(axis=2)
            if n_costs:
                ep_cost += info["constraint_cost"]
                cost_buf[:, t] = torch.as_tensor(info["constraint_cost"], dtype=torch.float32, device=device)
            obs_buf[:, t], state_buf[:, t], act_buf[:, t], logp_buf[:, t] = obs_t, state_t, action, logp
            val_buf[:, t] = value
            rew_buf[:, t] = torch.as_tensor(reward_scaler(reward, done), device=device)
            done_buf[:, t] = torch.as_tensor(done[..., None], dtype=torch.float32, device=device)
            env_steps += b
            if done.all():  # every member of every seed ends at the horizon together
                finished_returns.append(ep_return[..., : env.n_stations].mean(axis=2))  # the stations'
                finished_profits.append(ep_profit.copy())
                finished_costs.append(ep_cost.copy())
                ep_return[:], ep_profit[:], ep_cost[:] = 0.0, 0.0, 0.0
                raw_obs = envs.reset([None] * k_)
            raw_state = envs.global_state()

        # 2. advantages
        with torch.no_grad():
            obs_t = torch.as_tensor(obs_norm(raw_obs), device=device)
            state_t = torch.as_tensor(state_norm(raw_state), device=device)
            critic_t = state_t if cfg.centralised else obs_t
            last_value = critic(critic_t)
            by_time = lambda x: x.transpose(0, 1)  # noqa: E731  (T, K, ...) views for GAE
            advantages, returns = gae(
                by_time(rew_buf), by_time(val_buf), by_time(done_buf), last_value, cfg.gamma, cfg.gae_lambda
            )
            advantages, returns = by_time(advantages), by_time(returns)
            if n_costs:  # the costs' own GAE, on the raw costs (the limit is in their units)
                last_cost_value = cost_critic(critic_t)
                cost_adv, cost_ret = cost_gae(cost_buf, cval_buf, done_buf, last_cost_value, cfg.gamma, cfg.gae_lambda)
                # each seed's multipliers move with the mean cost of its episodes finished in this rollout
                if finished_costs:
                    multipliers.update(np.concatenate(finished_costs, axis=1).mean(axis=1))
                lam = torch.as_tensor(multipliers.value, dtype=torch.float32, device=device)  # (K, C)

        # 3. update, every seed on its own samples, minibatch order, clipping and early stop
        flat = lambda x: x.reshape((k_, t_len * b) + x.shape[3:])  # noqa: E731  (K, T x B, ...)
        f_obs, f_state, f_act, f_logp = flat(obs_buf), flat(state_buf), flat(act_buf), flat(logp_buf)
        f_adv, f_ret, f_val = flat(advantages), flat(returns), flat(val_buf)
        if n_costs:
            f_cadv, f_cret = flat(cost_adv), flat(cost_ret)
        size = t_len * b
        seed_axis = torch.arange(k_, device=device)[:, None]
        totals = torch.zeros(6, k_)  # policy_loss, value_loss, entropy, approx_kl, clip_fraction, cost_value_loss
        counts = torch.zeros(k_)
        active = torch.ones(k_, dtype=torch.bool)
        for _ in range(cfg.update_epochs):
            order = torch.stack(
                [torch.randperm(size, generator=g) if on else torch.arange(size) for g, on in zip(gens, active)]
            ).to(device)
            for idx in torch.tensor_split(order, cfg.minibatches, dim=1):
                dist = actor.distribution(f_obs[seed_axis, idx])
                new_logp = actor.log_prob(dist, f_act[seed_axis, idx])
                entropy = actor.entropy(dist).mean(dim=(1, 2))
                critic_in = f_state[seed_axis, idx] if cfg.centralised else f_obs[seed_axis, idx]
                new_value = critic(critic_in)
                adv = normalise_advantages(f_adv[seed_axis, idx])
                cost_loss = torch.zeros(k_, device=device)
                if n_costs:
                    adv = lagrangian_advantages(adv, center_per_seed(f_cadv[seed_axis, idx]), lam)
                    cost_error = (cost_critic(critic_in) - f_cret[seed_axis, idx]) ** 2
                    cost_loss = 0.5 * cost_error.mean(dim=tuple(range(1, cost_error.dim())))
                losses = ppo_losses(
                    new_logp,
                    f_logp[seed_axis, idx],
                    adv,
                    new_value,
                    f_val[seed_axis, idx],
                    f_ret[seed_axis, idx],
                    cfg.clip_coef,
                    cfg.clip_value,
                    per_seed=True,
                )
                per_seed = losses.policy + cfg.value_coef * losses.value - cfg.entropy_coef * entropy
                if n_costs:
                    per_seed = per_seed + cfg.cost_value_coef * cost_loss
                optimizer.zero_grad()
                per_seed.sum().backward()  # seeds share no parameter: each gradient is its own seed's
                clip_grad_norm_per_seed(params, cfg.max_grad_norm)
                optimizer.step(active)
                stats = torch.stack(
                    [losses.policy, losses.value, entropy, losses.approx_kl, losses.clip_fraction, cost_loss]
                )
                totals += stats.detach().cpu() * active
                counts += active
            if cfg.target_kl is not None:
                active &= losses.approx_kl.detach().cpu() <= cfg.target_kl
                if not active.any():
                    break

        # 4. log, evaluate, checkpoint
        elapsed = time.perf_counter() - start
        last = update == cfg.n_updates
        evaluate = last or (cfg.eval_every_updates and update % cfg.eval_every_updates == 0)
        evals: list[dict[str, float]] = [{}] * k_
        if evaluate:
            eval_seeds = [s + 1 if cfg.eval_seed is None else cfg.eval_seed for s in seed_list]
            evals = evaluate_seeds(eval_envs, actor, obs_norm, eval_seeds, device)
        variance = explained_variance(f_ret, f_val)
        rows = []
        for k in range(k_):
            row = {
                "update": update,
                "env_steps": env_steps,
                "seed": seed_list[k],
                "time_s": elapsed,
                "steps_per_s": (update - first_update + 1) * cfg.steps_per_update / max(elapsed, 1e-9),
                "episodic_return": float(np.concatenate([r[k] for r in finished_returns]).mean())
                if finished_returns
                else None,
                "profit": float(np.concatenate([p[k] for p in finished_profits]).mean()) if finished_profits else None,
                **{key: float(totals[i, k] / counts[k]) for i, key in enumerate(LOSS_METRICS)},
                "explained_variance": variance[k],
                "learning_rate": lr,
                "policy_std": float(policy_std[k]) / t_len,
                "action_std": float(f_act[k].std()),
                "eval_return": evals[k].get("return"),
                "eval_profit": evals[k].get("profit"),
                "eval_price": evals[k].get("price"),
                "eval_delta": evals[k].get("delta"),
            }
            if n_costs:
                row["cost_value_loss"] = float(totals[5, k] / counts[k])
                done_cost = np.concatenate([c[k] for c in finished_costs]).mean(axis=0) if finished_costs else None
                eval_cost = evals[k].get("cost")
                for c, term in enumerate(terms):
                    row[f"episode_cost_{term}"] = None if done_cost is None else float(done_cost[c])
                    row[f"lambda_{term}"] = float(multipliers.value[k, c])
                    row[f"eval_cost_{term}"] = None if eval_cost is None else float(eval_cost[c])
            logs[k].write(row, row["env_steps"], skip=3)
            rows.append(row)
        if out is not None and (last or update % cfg.checkpoint_every_updates == 0):
            for k, (folder, row) in enumerate(zip(dirs, rows)):
                payload = {
                    "env_id": env_id,
                    "overrides": overrides,
                    "n_agents": env.n_agents,
                    "observation_size": env.observation_size,
                    "config": cfg.replace(seed=seed_list[k]).to_dict(),
                    "update": update,
                    "env_steps": env_steps,
                    "actor": seed_state(actor, k),
                    "critic": seed_state(critic, k),
                    "optimizer": optimizer.seed_state(k),
                    "obs_norm": obs_norm.seed_state(k),
                    "state_norm": state_norm.seed_state(k),
                    "reward_scaler": reward_scaler.seed_state(k),
                    "generator": gens[k].get_state(),
                    "envs": envs.snapshot(k),
                    "episode": {
                        "return": ep_return[k].tolist(),
                        "profit": ep_profit[k].tolist(),
                        "cost": ep_cost[k].tolist(),
                    },
                    "metrics": {key: v for key, v in row.items() if v is not None},
                }
                if cost_critic is not None:
                    payload["cost_critic"] = seed_state(cost_critic, k)
                    payload["multipliers"] = multipliers.seed_state(k)
                save_checkpoint(folder / "checkpoints" / "last.pt", payload)
        if on_update is not None:
            on_update(mean_row(rows))

    for log in logs:
        log.close()
    return rows
