"""Seed-batched MAPPO: wall time of K seeds in one run against one seed, on the same machine.

    python benchmarks/learn_seeds.py [--seeds 1 4 16 64] [--steps 200000] [--device cpu|cuda]
                                     [--threads N] [--json]

Trains ``LogitBertrand-v0`` (team reward, PPOConfig's defaults otherwise: 64 environments
per seed, 32-period rollouts, evaluation every 20 updates and at the end) for ``--steps``
env-steps per seed with ``train(..., seeds=range(K))`` for each K, and prints the wall time,
the ratio time(K) / time(1) beside K (what K one-seed runs one after another would cost),
the env-steps per second summed over seeds, and the lowest and mean final Delta over the
seeds (the deterministic policy, 16 evaluation episodes per seed).

The reference time(1) is measured in the same run (the same process), with the same
thread count: ``--threads`` sets ``PPOConfig.torch_threads``; the default leaves torch's
own, one per core. Targets on the 2-core CPU machine: time(16)/time(1) <= 6 and time(64)/time(1) <= 20,
every seed reaching Delta >= 0.9; on a GPU (``--device cuda --seeds 1 256 1024``):
time(256)/time(1) <= 4.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from evprice.learn import PPOConfig, train  # noqa: E402


def run(k: int, steps: int, device: str, threads: int | None) -> dict:
    cfg = PPOConfig(total_steps=steps, device=device, torch_threads=threads)
    start = time.perf_counter()
    rows = train("LogitBertrand-v0", cfg, seeds=list(range(k)))
    wall = time.perf_counter() - start
    deltas = [r["eval_delta"] for r in rows]
    return {
        "seeds": k,
        "wall_s": wall,
        "env_steps_per_s": k * rows[0]["env_steps"] / wall,
        "delta_min": float(np.min(deltas)),
        "delta_mean": float(np.mean(deltas)),
        "seeds_below_0.9": int(np.sum(np.asarray(deltas) < 0.9)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--steps", type=int, default=200_000, help="env-steps per seed")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ks = sorted(set(args.seeds) | {1})
    rows = []
    for k in ks:
        rows.append(run(k, args.steps, args.device, args.threads))
        if not args.json:
            print(f"  K={k}: {rows[-1]['wall_s']:.1f} s", flush=True)
    base = rows[0]["wall_s"]
    for r in rows:
        r["ratio"] = r["wall_s"] / base
        r["speedup_vs_serial"] = r["seeds"] / r["ratio"]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}, "
        f"{torch.get_num_threads() if args.threads is None else args.threads} torch threads"
    )
    if args.device == "cuda":
        machine += f", {torch.cuda.get_device_name()}"
    if args.json:
        print(json.dumps({"machine": machine, "steps": args.steps, "rows": rows}))
        return
    print(f"Seed-batched MAPPO on LogitBertrand-v0, {args.steps:,} env-steps per seed ({machine})")
    print(
        f"{'K':>5}{'wall s':>10}{'time(K)/time(1)':>17}{'vs serial':>11}{'env-steps/s':>13}{'min Delta':>11}{'mean':>7}"
    )
    for r in rows:
        print(
            f"{r['seeds']:>5}{r['wall_s']:>10.1f}{r['ratio']:>17.2f}{r['speedup_vs_serial']:>10.1f}x"
            f"{r['env_steps_per_s']:>13,.0f}{r['delta_min']:>11.3f}{r['delta_mean']:>7.3f}"
        )


if __name__ == "__main__":
    main()
