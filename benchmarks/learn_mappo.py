"""Learning benchmark: MAPPO / IPPO against the game-theory and grid-search yardsticks.

    python benchmarks/learn_mappo.py [--bertrand-steps 1000000] [--public-steps 3000000]
                                     [--seeds 1] [--episodes 64] [--json]

1. ``LogitBertrand-v0`` with team reward (the default): MAPPO and IPPO (shared
   parameters); reports the prices the deterministic policy posts (mean over the periods
   of ``--episodes`` episodes: the policy sees last period's prices, so its first prices,
   from the middle of the range, can differ), the Nash and joint prices, and
   ``Delta = (profit - Nash) / (joint - Nash)`` over the same episodes.
   Target: Delta >= 0.9 within 10 minutes on 2 CPU cores.
2. ``PublicCharging-v0`` with team reward: MAPPO; the learned joint profit per day as a
   fraction of the best fixed prices' (``best_fixed``, the grid search of the economics
   issue), both played on the same ``--episodes`` days (common random numbers), with a
   95% CI of the paired ratio. Target: >= 1.0 (a time-varying policy should beat any fixed
   price).

Reports wall time and training env-steps per second of each run (one env-step = one
pricing decision of one environment). numpy runs on one thread; torch on its default
(one per core), which ``python benchmarks/learn_speed.py`` measured fastest on 2 cores.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy import stats  # noqa: E402

from evprice.envs import make_env  # noqa: E402
from evprice.learn import PPOConfig, evaluate_policy, load_policy, train  # noqa: E402
from evprice.market.theory import bertrand_nash, joint_optimum, logit_market  # noqa: E402
from evprice.policies.baselines import make_policy  # noqa: E402


def _train(env_id: str, cfg: PPOConfig) -> tuple[str, float, float]:
    """Train into a temporary folder; returns (run folder, wall seconds, env-steps/s)."""
    out = tempfile.mkdtemp(prefix=f"evprice-{cfg.algo}-")
    start = time.perf_counter()
    row = train(env_id, cfg, out_dir=out)
    wall = time.perf_counter() - start
    return out, wall, row["env_steps"] / wall


def _mean_prices(env, policy, seed: int) -> list[float]:
    """Mean price of each station over every period of ``env``'s episodes under ``policy``."""
    obs = env.reset(seed=seed)
    total = np.zeros(env.n_agents)
    for _ in range(env.n_periods):
        obs, _, _, _, info = env.step(policy(obs))
        total += info["price"].mean(axis=0)
    return [float(x) for x in total / env.n_periods]


def bertrand(algo: str, steps: int, seed: int, episodes: int, distribution: str = "beta") -> dict:
    cfg = PPOConfig(algo=algo, total_steps=steps, seed=seed, eval_every_updates=0, policy_distribution=distribution)
    out, wall, sps = _train("LogitBertrand-v0", cfg)
    _, _, policy = load_policy(out)
    env = make_env("LogitBertrand-v0", episodes)
    result = evaluate_policy(env, policy, seed=10_000 + seed)
    market = logit_market(env.params)
    return {
        "algo": algo,
        "distribution": distribution,
        "steps": steps,
        "seed": seed,
        "wall_s": wall,
        "env_steps_per_s": sps,
        "delta": result["delta"],
        "learned_prices": _mean_prices(env, policy, 10_000 + seed),
        "nash_prices": [float(x) for x in bertrand_nash(market).prices],
        "joint_prices": [float(x) for x in joint_optimum(market).prices],
    }


def _episode_profits(env, policy, seed: int) -> np.ndarray:
    obs = env.reset(seed=seed)
    total = np.zeros(env.num_envs)
    for _ in range(env.n_periods):
        obs, _, _, _, info = env.step(policy(obs))
        total += info["profit"].sum(axis=1)
    return total


def public(steps: int, seed: int, episodes: int, distribution: str = "beta") -> dict:
    cfg = PPOConfig(algo="mappo", total_steps=steps, seed=seed, eval_every_updates=0, policy_distribution=distribution)
    out, wall, sps = _train("PublicCharging-v0", cfg)
    _, _, policy = load_policy(out)
    env = make_env("PublicCharging-v0", episodes)
    learned = _episode_profits(env, policy, 10_000 + seed)
    best = _episode_profits(env, make_policy("best_fixed", env, seed=0), 10_000 + seed)
    ratio = learned.mean() / best.mean()
    # paired: the CI of mean(learned - best), divided by mean(best)
    diff = learned - best
    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff)) / best.mean()
    return {
        "algo": "mappo",
        "steps": steps,
        "seed": seed,
        "wall_s": wall,
        "env_steps_per_s": sps,
        "learned_profit_per_day": float(learned.mean()),
        "best_fixed_profit_per_day": float(best.mean()),
        "ratio": float(ratio),
        "ratio_ci95": [float(ratio - half), float(ratio + half)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bertrand-steps", type=int, default=1_000_000)
    parser.add_argument("--public-steps", type=int, default=3_000_000)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--only", choices=("bertrand", "public"), default=None, help="run one part only")
    parser.add_argument("--distribution", choices=("beta", "gaussian"), default="beta", help="the policy's")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = {
        "machine": (
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, python "
            f"{platform.python_version()}, torch {torch.__version__}"
        ),
        "bertrand": [
            bertrand(algo, args.bertrand_steps, seed, args.episodes, args.distribution)
            for seed in range(args.seeds)
            for algo in ("mappo", "ippo")
            if args.only in (None, "bertrand")
        ],
        "public": [
            public(args.public_steps, seed, args.episodes, args.distribution)
            for seed in range(args.seeds)
            if args.only in (None, "public")
        ],
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"evprice learning benchmark ({report['machine']})\n")
    print("LogitBertrand-v0, team reward (target Delta >= 0.9 within 10 min):")
    for r in report["bertrand"]:
        met = "yes" if r["delta"] >= 0.9 and r["wall_s"] <= 600 else "NO"
        print(
            f"  {r['algo']:<5} {r['distribution']} seed {r['seed']}: Delta {r['delta']:.3f}, prices "
            f"{', '.join(f'{p:.3f}' for p in r['learned_prices'])} (Nash {r['nash_prices'][0]:.3f}, joint "
            f"{r['joint_prices'][0]:.3f}); {r['steps']:,} steps in {r['wall_s']:.0f} s "
            f"({r['env_steps_per_s']:,.0f} steps/s)  met: {met}"
        )
    print("\nPublicCharging-v0, team reward (target learned / best fixed >= 1.0):")
    for r in report["public"]:
        lo, hi = r["ratio_ci95"]
        met = "yes" if r["ratio"] >= 1.0 else "NO"
        print(
            f"  mappo seed {r['seed']}: {r['learned_profit_per_day']:.1f} / {r['best_fixed_profit_per_day']:.1f} "
            f"CNY a day = {r['ratio']:.3f} (95% CI {lo:.3f}-{hi:.3f}); {r['steps']:,} steps in {r['wall_s']:.0f} s "
            f"({r['env_steps_per_s']:,.0f} steps/s)  met: {met}"
        )


if __name__ == "__main__":
    main()
