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


def _markets(experiment: Experiment, settings: ExperimentSettings) -> list[tuple[str, str]]:
    """(label, env id) of each environment the study trains on: the logit market and the
    charging market; a scenario's market only (its keys are not the logit market's)."""
    market = (experiment.market_label(settings), experiment.market(settings))
    return [market] if settings.scenario is not None else [("LogitBertrand-v0", "LogitBertrand-v0"), market]


def _benchmark_text(entry: dict) -> str:
    """`` (Nash x, joint y)`` of an arm's market, or why it has no static benchmark."""
    if entry["nash_prices"] is None:
        return f" (no static benchmark: {entry['no_theory']})"
    joint = "" if entry["joint_prices"] is None else f", joint {np.mean(entry['joint_prices']):.3f}"
    return f" (Nash {np.mean(entry['nash_prices']):.3f}{joint})"


def _coordination(settings: ExperimentSettings, out: Path) -> ExperimentResult:
    steps = settings.steps or COORDINATION.default_steps
    envs = _markets(COORDINATION, settings)
    arms = [(f"{name} {reward}", env, {"reward": reward}) for name, env in envs for reward in ("team", "individual")]
    rows, summary = _arms_study(settings, out, arms=arms, steps=steps)
    notes = []
    for name, _ in envs:
        team, ind = summary[f"{name} team"], summary[f"{name} individual"]
        notes.append(
            f"{name}: mean learned price {np.mean(team['mean_price']):.3f} with a team reward, "
            f"{np.mean(ind['mean_price']):.3f} with individual rewards{_benchmark_text(team)}."
        )
    question = (
        "Do stations trained on a shared (team) reward price like a cartel, and stations trained on their own "
        "profit like Bertrand competitors, or do independent learners coordinate tacitly?"
    )
    pairs = [(f"{name} team", f"{name} individual") for name, _ in envs]
    return _comparison_result(question, rows, summary, out, "reward", notes, pairs)


def _observability(settings: ExperimentSettings, out: Path) -> ExperimentResult:
    steps = settings.steps or OBSERVABILITY.default_steps
    envs = _markets(OBSERVABILITY, settings)
    arms = [
        (f"{name} {obs}", env, {"reward": "individual", "observability": obs})
        for name, env in envs
        for obs in ("partial", "full")
    ]
    rows, summary = _arms_study(settings, out, arms=arms, steps=steps)
    notes = [
        f"{name}: mean learned price {np.mean(summary[f'{name} partial']['mean_price']):.3f} seeing only "
        f"public and own features, {np.mean(summary[f'{name} full']['mean_price']):.3f} seeing the rivals' "
        f"prices and status{_benchmark_text(summary[f'{name} partial'])}."
        for name, _ in envs
    ]
    question = (
        "Does seeing the rivals' prices (full observability) let independent learners sustain higher prices "
        "than seeing only public signals and their own state (partial)?"
    )
    pairs = [(f"{name} full", f"{name} partial") for name, _ in envs]
    return _comparison_result(question, rows, summary, out, "observability", notes, pairs)


COORDINATION = register(
    Experiment(
        name="coordination",
        description="Team vs individual reward (MAPPO) on LogitBertrand-v0 and a charging market "
        "(PublicCharging-v0, or --env; --scenario: the scenario's market only).",
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
