"""The ``coordination`` and ``observability`` experiments: MAPPO arms on a logit market and a
charging market."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evprice.analysis.experiments import (
    Experiment,
    ExperimentResult,
    ExperimentSettings,
    register,
)
from evprice.analysis.studies.arms import DEFAULT_STEPS, _arms_study
from evprice.analysis.studies.report import _comparison_result


def _coordination(settings: ExperimentSettings, out: Path) -> ExperimentResult:
    steps = settings.steps or COORDINATION.default_steps
    envs = ("LogitBertrand-v0", COORDINATION.market(settings))
    arms = [(f"{env} {reward}", env, {"reward": reward}) for env in envs for reward in ("team", "individual")]
    rows, summary = _arms_study(settings, out, arms=arms, steps=steps)
    notes = []
    for env in envs:
        team, ind = summary[f"{env} team"], summary[f"{env} individual"]
        notes.append(
            f"{env}: mean learned price {np.mean(team['mean_price']):.3f} with a team reward, "
            f"{np.mean(ind['mean_price']):.3f} with individual rewards (Nash {np.mean(team['nash_prices']):.3f}"
            + (f", joint {np.mean(team['joint_prices']):.3f})." if team["joint_prices"] is not None else ").")
        )
    question = (
        "Do stations trained on a shared (team) reward price like a cartel, and stations trained on their own "
        "profit like Bertrand competitors, or do independent learners coordinate tacitly?"
    )
    pairs = [(f"{env} team", f"{env} individual") for env in envs]
    return _comparison_result(question, rows, summary, out, "reward", notes, pairs)


def _observability(settings: ExperimentSettings, out: Path) -> ExperimentResult:
    steps = settings.steps or OBSERVABILITY.default_steps
    envs = ("LogitBertrand-v0", OBSERVABILITY.market(settings))
    arms = [
        (f"{env} {obs}", env, {"reward": "individual", "observability": obs})
        for env in envs
        for obs in ("partial", "full")
    ]
    rows, summary = _arms_study(settings, out, arms=arms, steps=steps)
    notes = [
        f"{env}: mean learned price {np.mean(summary[f'{env} partial']['mean_price']):.3f} seeing only "
        f"public and own features, {np.mean(summary[f'{env} full']['mean_price']):.3f} seeing the rivals' "
        "prices and status."
        for env in envs
    ]
    question = (
        "Does seeing the rivals' prices (full observability) let independent learners sustain higher prices "
        "than seeing only public signals and their own state (partial)?"
    )
    pairs = [(f"{env} full", f"{env} partial") for env in envs]
    return _comparison_result(question, rows, summary, out, "observability", notes, pairs)


COORDINATION = register(
    Experiment(
        name="coordination",
        description="Team vs individual reward (MAPPO) on LogitBertrand-v0 and a charging market "
        "(PublicCharging-v0, or --env).",
        default_steps=DEFAULT_STEPS,
        run=_coordination,
        market_env="PublicCharging-v0",
    )
)


OBSERVABILITY = register(
    Experiment(
        name="observability",
        description="Partial vs full observability, individual rewards (MAPPO), the same training budget.",
        default_steps=DEFAULT_STEPS,
        run=_observability,
        market_env="PublicCharging-v0",
    )
)
