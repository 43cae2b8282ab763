"""Training throughput of the in-house MAPPO by device, batch size and torch threads.

    python benchmarks/learn_speed.py [--device cpu|cuda] [--num-envs 64 1024] [--threads 1 2]
                                     [--updates 6] [--json]

Trains ``LogitBertrand-v0`` (team reward, default PPO settings otherwise) for ``--updates``
updates of 32 periods at each combination and reports env-steps per second (one
env-step = one pricing decision of one environment), wall time from the first update,
with a warm-up run of one update before each measurement excluded.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from evprice.learn import PPOConfig, train  # noqa: E402


def steps_per_s(device: str, num_envs: int, threads: int, updates: int) -> float:
    base = {"num_envs": num_envs, "device": device, "torch_threads": threads, "eval_every_updates": 0}
    train("LogitBertrand-v0", PPOConfig(total_steps=num_envs * 32, eval_episodes=1, **base))  # warm-up
    cfg = PPOConfig(total_steps=num_envs * 32 * updates, eval_episodes=1, **base)
    start = time.perf_counter()
    row = train("LogitBertrand-v0", cfg)
    return row["env_steps"] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), nargs="+", default=["cpu"])
    parser.add_argument("--num-envs", type=int, nargs="+", default=[64, 1024])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch threads")
    parser.add_argument("--updates", type=int, default=6)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [
        {"device": d, "num_envs": n, "threads": t, "env_steps_per_s": steps_per_s(d, n, t, args.updates)}
        for d in args.device
        for n in args.num_envs
        for t in args.threads
    ]
    machine = f"{platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}"
    if torch.cuda.is_available():
        machine += f", {torch.cuda.get_device_name()}"
    if args.json:
        print(json.dumps({"machine": machine, "rows": rows}))
        return
    print(f"MAPPO training throughput on LogitBertrand-v0 ({machine})")
    print(f"{'device':<8}{'envs':>6}{'threads':>9}{'env-steps/s':>14}")
    for r in rows:
        print(f"{r['device']:<8}{r['num_envs']:>6}{r['threads']:>9}{r['env_steps_per_s']:>14,.0f}")


if __name__ == "__main__":
    main()
