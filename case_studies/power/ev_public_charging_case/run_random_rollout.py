"""Random-policy rollout of the HERON public charging case (the seed's section 10).

    python -m case_studies.power.ev_public_charging_case.run_random_rollout [--seed S]

A thin shim over ``evprice``: it runs one episode of ``PublicCharging-v0`` through the
PettingZoo API with random prices and checks what the seed says the rollout validates:
environment stability (finite observations inside their spaces), reward flow (team
rewards equal for all stations and equal to the normalised profit) and observation /
action wiring (the posted price is the scaled action).
"""

from __future__ import annotations

import argparse

import numpy as np

import evprice


def check(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(message)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    env = evprice.make("PublicCharging-v0")
    cfg = env.config
    obs, _ = env.reset(seed=args.seed)
    for agent in env.agents:
        env.action_space(agent).seed(args.seed)
    scale = sum(
        c * p * cfg.action_period_s / 3600 * hi
        for c, p, hi in zip(cfg.chargers_per_station, cfg.charger_power_kw, cfg.price_max)
    )
    total_reward = dict.fromkeys(env.possible_agents, 0.0)
    profit = dict.fromkeys(env.possible_agents, 0.0)
    steps = 0
    while env.agents:
        actions = {a: env.action_space(a).sample() for a in env.agents}
        obs, rewards, _, _, infos = env.step(actions)
        steps += 1
        for i, a in enumerate(env.possible_agents):
            space = env.observation_space(a)
            check(bool(np.isfinite(obs[a]).all()) and space.contains(obs[a]), f"{a}: observation outside its space")
            lo, hi = cfg.price_min[i], cfg.price_max[i]
            expected_price = lo + (float(actions[a][0]) + 1) / 2 * (hi - lo)
            check(abs(infos[a]["price"] - expected_price) < 1e-6, f"{a}: price is not the scaled action")
            total_reward[a] += rewards[a]
            profit[a] += infos[a]["profit"]
        team = sum(infos[a]["profit"] for a in env.possible_agents) / scale
        check(
            all(abs(rewards[a] - team) < 1e-9 for a in env.possible_agents),
            "team rewards differ from the normalised profit",
        )

    print(f"PublicCharging-v0: {steps} pricing periods of {cfg.action_period_s} s, seed {args.seed}")
    for a in env.possible_agents:
        print(f"  {a}: return {total_reward[a]:+.4f}, profit {profit[a]:+.2f} {cfg.currency}")
    print("observations finite and inside their spaces; rewards and prices wired correctly")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
