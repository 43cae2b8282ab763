"""What a coordination protocol costs in environment throughput (issue 23).

    python benchmarks/protocols.py [--seconds 1] [--repeats 3] [--json]

On ``LogitBertrand-v0`` and ``PublicCharging-v0``, for each protocol (none, cheap talk with
two values per message, announcements, a mediator): pricing steps per second through the
PettingZoo API (B = 1, dict in / dicts out) and env-steps per second of ``make_vec`` with
B = 1,024, each as a ratio to the same view without a protocol measured in the same run.
Each rate is the median of ``--repeats`` timed runs of ``--seconds`` each, after a warm-up;
BLAS threads are pinned to one.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402

from throughput import median_of, pettingzoo_steps_per_s, vector_env_steps_per_s  # noqa: E402

PROTOCOLS = {
    "none": {},
    "cheap talk": {"protocol": "cheap_talk", "message_dim": 2},
    "announcements": {"protocol": "announcement", "deviation_cost": 0.5},
    "mediator": {"protocol": "mediator"},
}
ENVS = ("LogitBertrand-v0", "PublicCharging-v0")


def _rate(view: str, env_id: str, overrides: dict, seconds: float) -> float:
    if view == "PettingZoo, B = 1":
        return pettingzoo_steps_per_s(seconds, env_id, **overrides)
    return vector_env_steps_per_s(seconds, env_id, 1024, **overrides)


def measure(seconds: float, repeats: int) -> list[dict]:
    rows = []
    for env_id in ENVS:
        for view in ("PettingZoo, B = 1", "make_vec, B = 1,024"):
            base = None
            for name, overrides in PROTOCOLS.items():
                rate = median_of(lambda s, v=view, e=env_id, o=overrides: _rate(v, e, o, s), seconds, repeats)
                base = rate if base is None else base
                rows.append({"env": env_id, "view": view, "protocol": name, "rate": rate, "ratio": rate / base})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = measure(args.seconds, args.repeats)
    if args.json:
        print(json.dumps({"machine": platform.machine(), "rows": rows}, indent=2))
        return
    print(f"{'env':<20} {'view':<22} {'protocol':<14} {'steps/s':>12} {'x none':>7}")
    for r in rows:
        print(f"{r['env']:<20} {r['view']:<22} {r['protocol']:<14} {r['rate']:>12,.0f} {r['ratio']:>7.2f}")


if __name__ == "__main__":
    main()
