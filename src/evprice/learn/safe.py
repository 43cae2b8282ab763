"""Safe model-based pricing: a probabilistic ensemble plus a constrained CEM planner (document 2).

``train_ccem(env_id, config)`` runs ``total_steps`` pricing decisions of one central agent
(:func:`evprice.make_gym`: the action is every station's price, ``info["cost"]`` the
constraint cost of the period):

1. the first ``random_steps`` decisions post uniformly random prices, to seed the model;
2. after that every decision is planned: :class:`~evprice.learn.ccem.ConstrainedCEM`
   over ``planner.horizon`` periods, each candidate price sequence rolled out through
   elite members of the :class:`~evprice.learn.ensemble.ProbabilisticEnsemble`; a
   sequence is feasible when its predicted cost plus ``kappa`` times the ensemble's
   disagreement stays within the permitted cost of a horizon (``cost_limit`` per episode,
   prorated: ``cost_limit x horizon / periods per episode``); MPC: the first price is
   posted, and the plan is made again next period from a shifted warm start;
3. every ``retrain_every`` decisions (from the end of the random phase) the ensemble is
   fitted again on the replay buffer;
4. at the end of each episode ``kappa`` moves by projected dual ascent on the gap between
   the episode's cost and ``cost_limit`` (never below 0; constrained planning only), a
   metrics row is written and ``checkpoints/last.pt`` saved; ``checkpoints/best.pt`` keeps
   the planner with the best reward within the cost limit (document 2's ``model_AMS``),
   judged on the mean of the last ``best_window`` planned episodes: one day's reward
   varies more with its demand than with the prices, and on ``CoupledNetworkPeak-v0`` the
   single best day within the limit picked an early, less safe planner (7.9% violating
   periods on 20 evaluation days against 3.8% for the last one).

``constrained=False`` runs the same planner without the constraint (unconstrained CEM).
Seeded and deterministic on the CPU (the trainer owns its seed); ``device`` picks the GPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evprice.api import make_gym
from evprice.core.config import ConfigError
from evprice.core.declared import ConfigMixin, choice, config_field, flag, integer, number
from evprice.envs.snapshot import snapshot_from_plain, snapshot_to_plain
from evprice.learn.ccem import CCEMConfig, ConstrainedCEM
from evprice.learn.checkpoint import load_checkpoint, resolve_checkpoint, save_checkpoint
from evprice.learn.device import resolve_device
from evprice.learn.ensemble import EnsembleConfig, ProbabilisticEnsemble
from evprice.learn.replay import ReplayBuffer
from evprice.learn.runlog import RunLog

_f = config_field

SAFE_METRICS = (
    "episode",
    "env_steps",
    "time_s",
    "episode_reward",
    "episode_cost",
    "violating_steps",
    "planned",
    "kappa",
    "plan_time_s",
    "model_holdout_mse",
)
"""Columns of ``metrics.csv``, one row per episode: summed reward and cost, periods with a
cost above 0, whether the planner chose the prices (``planned``: after the random phase
and a first fit), kappa after its update, the mean planning time per decision (s), and
the ensemble's latest holdout error (mean over members, standardised units)."""

PLANNER_DEFAULTS = {
    "population": 200,
    "n_elites": 20,
    "particles": 5,
    "iterations": 3,
    "kappa_lr": 1.0,
    "keep_elites": 0.5,
    "noise_correlation": 0.9,
}
"""The planner's settings unless ``planner`` overrides them: about 0.3 s per decision on 2
cores with the default ensemble (``docs/safe.md``). ``kappa_lr`` is 1, not the planner's
own 0.01: the default uncertainty is the elites' spread of a violation probability, a few
hundredths, so kappa must reach tens to weigh in; on ``CoupledNetworkPeak-v0`` 0.1
left it at 1.9 and 3.9 after 600 decisions, with 5.4% and 9.2% violating periods on two seeds.
``keep_elites`` and ``noise_correlation`` (iCEM's search aids): once kappa makes every sequence
infeasible the planner minimises the predicted cost, and plain CEM did not find the safe
high prices its own model rated five times safer (``docs/safe.md``)."""


def _planner_field() -> Any:
    return field(
        default_factory=lambda: CCEMConfig.from_overrides(PLANNER_DEFAULTS),
        metadata={"unit": "-", "doc": "CCEMConfig (horizon, population, particles, kappa_init, kappa_lr, ...)"},
    )


def _model_field() -> Any:
    return field(
        default_factory=EnsembleConfig,
        metadata={"unit": "-", "doc": "EnsembleConfig (n_members, n_elites, hidden_sizes, ...)"},
    )


@dataclass(frozen=True)
class SafeRLConfig(ConfigMixin):
    """Settings of :func:`train_ccem` (``evprice train ccem``). ``planner`` and ``model`` take a
    config or a mapping of its fields; the trainer sets the planner's ``constrained`` and
    ``cost_limit`` from its own."""

    CONFIG_NAME = "SafeRLConfig"

    total_steps: int = _f(600, "decisions", "pricing decisions to train for (document 2 trained 600)", integer(1))
    random_steps: int = _f(48, "decisions", "first decisions taken at uniformly random prices", integer(1))
    retrain_every: int = _f(24, "decisions", "refit the ensemble after this many new decisions", integer(1))
    buffer_size: int = _f(100_000, "transitions", "replay buffer capacity", integer(1))
    cost_limit: float = _f(
        0.3,
        "cost / episode",
        "permitted constraint cost of an episode (indicator cost: violating periods)",
        number(0.0),
    )
    constrained: bool = _f(True, "-", "constrained CEM; false = the unconstrained planner", flag())
    best_window: int = _f(
        5,
        "episodes",
        "best.pt is saved when the mean reward of the last best_window planned episodes is the highest so far "
        "among windows whose mean cost is within cost_limit (1 = document 2's single-episode rule)",
        integer(1),
    )
    seed: int = _f(0, "-", "seeds torch, the environment, the planner and the random phase", integer(0))
    device: str = _f("cpu", "-", "'cpu', 'cuda' or 'auto' (cuda when available)", choice(("cpu", "cuda", "auto")))
    planner: CCEMConfig = _planner_field()
    model: EnsembleConfig = _model_field()

    def __post_init__(self) -> None:
        self.check_declared()
        s = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        if isinstance(self.planner, Mapping):
            s("planner", CCEMConfig.from_overrides({**PLANNER_DEFAULTS, **self.planner}))
        if isinstance(self.model, Mapping):
            s("model", EnsembleConfig.from_overrides(dict(self.model)))
        if not isinstance(self.planner, CCEMConfig) or not isinstance(self.model, EnsembleConfig):
            raise ConfigError("planner and model must be a CCEMConfig / EnsembleConfig or a mapping of their fields")

    def planner_config(self, periods_per_episode: int) -> CCEMConfig:
        """The planner's config with the constraint switch and the per-horizon cost limit."""
        per_horizon = self.cost_limit * self.planner.horizon / periods_per_episode
        return self.planner.replace(constrained=self.constrained, cost_limit=per_horizon)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["planner"] = self.planner.to_dict()
        out["model"] = self.model.to_dict()
        return out


class CCEMPolicy:
    """A trained ensemble and planner as a :class:`evprice.policies.base.Policy` for one batched
    environment: each member's prices are planned from its global state (``obs`` unused)."""

    name = "ccem"

    def __init__(self, env: Any, model: ProbabilisticEnsemble, planner: CCEMConfig, kappa: float, seed: int) -> None:
        self.env = env
        self.model = model
        low, high = env.params.price_min, env.params.price_max
        self.planners = [ConstrainedCEM(planner, low, high) for _ in range(env.num_envs)]
        for p in self.planners:
            p.load_state_dict({"kappa": kappa, "warm_mean": None})
        self.generator = torch.Generator().manual_seed(seed)
        self.plan_time_s: list[float] = []

    def reset(self, seed: int | None = None) -> None:
        for p in self.planners:
            p.reset()

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        if self.env.period == 0:  # a new episode: no warm start
            self.reset()
        state = self.env.global_state()
        prices = np.empty((self.env.num_envs, self.env.n_stations))
        for b, planner in enumerate(self.planners):
            start = time.perf_counter()
            action = planner.plan(torch.as_tensor(state[b]), self.model.step, self.model.elite_indices, self.generator)
            self.plan_time_s.append(time.perf_counter() - start)
            prices[b] = action.double().cpu().numpy()
        return self.env.prices_to_actions(np.clip(prices, self.env.params.price_min, self.env.params.price_max))


def ccem_checkpoint_file(path: str | Path) -> tuple[Path, str | None]:
    """The file a ``train_ccem`` run folder (or file) is evaluated from, and a note when it is
    not the folder's ``best.pt``: ``best.pt`` is written only once a window of ``best_window``
    planned episodes stayed within the cost limit, and ``last.pt`` stands in for it."""
    p = Path(path)
    if not p.is_dir():
        return p, None
    folder = p / "checkpoints" if (p / "checkpoints").is_dir() else p
    if (folder / "best.pt").is_file():
        return folder / "best.pt", None
    return folder / "last.pt", (
        f"{str(folder)!r} has no best.pt (no window of planned episodes stayed within the cost limit): "
        "using last.pt, the final model"
    )


def checkpoints_written(out: str | Path) -> list[str]:
    """The checkpoint files a ``train_ccem`` run folder holds, e.g. ``["checkpoints/best.pt", ...]``."""
    folder = Path(out) / "checkpoints"
    return [f"checkpoints/{name}" for name in ("best.pt", "last.pt") if (folder / name).is_file()]


def load_ccem(path: str | Path) -> tuple[str, dict[str, Any], Callable[[Any], CCEMPolicy]]:
    """``(env_id, overrides, factory)`` of a ``train_ccem`` checkpoint (a run folder gives its
    ``best.pt``, or ``last.pt`` when there is none: :func:`ccem_checkpoint_file`; the factory's
    ``note`` then says so)."""
    p, note = ccem_checkpoint_file(path)
    data = load_checkpoint(resolve_checkpoint(p), kind="ccem")
    cfg = SafeRLConfig.from_overrides(data["config"])

    def factory(env: Any) -> CCEMPolicy:
        if (env.n_stations, env.state_size) != (data["n_agents"], data["observation_size"]):
            raise ConfigError(
                f"the checkpoint plans {data['n_agents']} prices from {data['observation_size']} state values; "
                f"this configuration has {env.n_stations} stations and {env.state_size} state values"
            )
        model = ProbabilisticEnsemble(data["observation_size"], data["n_agents"], cfg.model)
        model.load_state_dict(data["model"])
        return CCEMPolicy(env, model.eval(), cfg.planner_config(env.n_periods), float(data["kappa"]), cfg.seed)

    factory.note = note  # type: ignore[attr-defined]
    return data["env_id"], dict(data["overrides"]), factory


def train_ccem(
    env_id: str,
    config: SafeRLConfig | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    out_dir: str | Path | None = None,
    resume: str | Path | None = None,
    on_episode: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train the safe planner on ``env_id``; returns ``{"episodes": rows, "kappa", "model", "planner"}``.

    ``resume`` continues a run from ``checkpoints/last.pt`` (its environment; ``config``
    may extend ``total_steps``): model, kappa, replay buffer and random generators are
    restored, and the environment starts a fresh episode.
    """
    cfg = config or SafeRLConfig()
    state: dict[str, Any] | None = None
    if resume is not None:
        state = load_checkpoint(resume, kind="ccem")
        env_id, overrides = state["env_id"], state["overrides"]
        if config is None:
            cfg = SafeRLConfig.from_overrides(state["config"])
    overrides = dict(overrides or {})
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    env = make_gym(env_id, **overrides)
    if env.env.config.protocol != "none":
        raise ConfigError(
            f"protocol={env.env.config.protocol!r} is invalid for the safe planner: it prices every station "
            "centrally, so there is nobody to talk to; use protocol='none' (the protocols are for MAPPO / IPPO)"
        )
    if state is None and cfg.total_steps < env.env.n_periods:
        raise ConfigError(
            f"total_steps={cfg.total_steps} is invalid for {env_id}: checkpoints are written when an episode ends, "
            f"and an episode has {env.env.n_periods} pricing decisions; give at least {env.env.n_periods}"
        )
    if cfg.model.cost_head == "auto":  # resolved once, and saved resolved in the checkpoints
        binary = getattr(env.env.config, "cost_form", "weighted") == "indicator"
        cfg = cfg.replace(model=cfg.model.replace(cost_head="logistic" if binary else "gaussian"))
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    model = ProbabilisticEnsemble(obs_dim, act_dim, cfg.model).to(device)
    planner = ConstrainedCEM(
        cfg.planner_config(env.env.n_periods), env.action_space.low, env.action_space.high, device=device
    )
    buffer = ReplayBuffer(cfg.buffer_size, obs_dim, act_dim)
    first_step, episode_rows, fitted = 1, 0, False
    if state is not None:
        model.load_state_dict(state["model"])
        planner.load_state_dict({"kappa": float(state["kappa"]), "warm_mean": None})
        buffer.load_state_dict(state["replay"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        rng.bit_generator.state = state["numpy_rng"]
        first_step, episode_rows = int(state["env_steps"]) + 1, int(state["episodes"])
        fitted = bool(state.get("fitted", True))  # absent from checkpoints written before it was kept
    out = Path(out_dir) if out_dir is not None else None
    log = RunLog(out, {"env": env_id, "overrides": overrides, "ccem": cfg.to_dict()}, SAFE_METRICS, state is not None)

    if state is not None and "envs" in state:  # the environment as the run left it: the next episode is the run's
        env.restore(snapshot_from_plain(state["envs"], env.env.config))
        obs, _ = env.reset()
    else:  # a new run (or an older checkpoint, which kept no environment)
        obs, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
    planner.reset()
    ep = {"reward": 0.0, "cost": 0.0, "violations": 0, "planned": True, "plan_times": []}
    rows: list[dict[str, Any]] = []
    best_reward = -np.inf if state is None else float(state.get("best_reward", -np.inf))
    holdout = None
    start = time.perf_counter()
    for step in range(first_step, cfg.total_steps + 1):
        if step <= cfg.random_steps or not fitted:
            action = rng.uniform(env.action_space.low, env.action_space.high)
            ep["planned"] = False
        else:
            t0 = time.perf_counter()
            action = planner.plan(torch.as_tensor(obs), model.step, model.elite_indices, gen)
            action = action.double().cpu().numpy()
            ep["plan_times"].append(time.perf_counter() - t0)
        next_obs, reward, terminated, truncated, info = env.step(action)
        done = terminated or truncated
        buffer.add(obs, action, reward, info["cost"], next_obs, done)
        ep["reward"] += reward
        ep["cost"] += info["cost"]
        ep["violations"] += int(info["cost"] > 0)
        obs = next_obs
        if step >= cfg.random_steps and (step - cfg.random_steps) % cfg.retrain_every == 0:
            d = buffer.data()
            holdout = float(
                np.mean(model.fit(d["obs"], d["act"], d["next_obs"], d["reward"], d["cost"], gen)["holdout_mse"])
            )
            fitted = True
        if not done:
            continue
        learns = ep["planned"] and cfg.constrained  # kappa plays no part in unconstrained planning
        kappa = planner.update_kappa(float(ep["cost"]), cfg.cost_limit) if learns else planner.kappa
        episode_rows += 1
        row = {
            "episode": episode_rows,
            "env_steps": step,
            "time_s": time.perf_counter() - start,
            "episode_reward": ep["reward"],
            "episode_cost": ep["cost"],
            "violating_steps": ep["violations"],
            "planned": ep["planned"],
            "kappa": kappa,
            "plan_time_s": float(np.mean(ep["plan_times"])) if ep["plan_times"] else None,
            "model_holdout_mse": holdout,
        }
        rows.append(row)
        log.write(row, step)
        if out is not None:
            payload = {
                "env_id": env_id,
                "overrides": overrides,
                "n_agents": act_dim,
                "observation_size": obs_dim,
                "config": cfg.to_dict(),
                "env_steps": step,
                "episodes": episode_rows,
                "model": model.state_dict(),
                "kappa": float(planner.kappa),
                "replay": {
                    k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in buffer.state_dict().items()
                },
                "generator": gen.get_state(),
                "torch_rng": torch.get_rng_state(),
                "numpy_rng": rng.bit_generator.state,
                "fitted": fitted,
                "envs": snapshot_to_plain(env.snapshot()),  # at the episode's end, before the next reset
            }
            window = [r for r in rows if r["planned"]][-cfg.best_window :]
            better = False
            if ep["planned"] and len(window) == cfg.best_window:
                reward_w = float(np.mean([r["episode_reward"] for r in window]))
                cost_w = float(np.mean([r["episode_cost"] for r in window]))
                better = cost_w <= cfg.cost_limit and reward_w > best_reward
                best_reward = reward_w if better else best_reward
            payload["best_reward"] = best_reward  # kept: after a resume best.pt is only replaced by a better window
            save_checkpoint(out / "checkpoints" / "last.pt", payload, kind="ccem")
            if better:
                save_checkpoint(out / "checkpoints" / "best.pt", payload, kind="ccem")
        if on_episode is not None:
            on_episode(row)
        obs, _ = env.reset()
        planner.reset()
        ep = {"reward": 0.0, "cost": 0.0, "violations": 0, "planned": True, "plan_times": []}
    log.close()
    return {"episodes": rows, "kappa": planner.kappa, "model": model, "planner": planner}
