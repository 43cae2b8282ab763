"""Learning curves over seeds: read them from run folders, band them, and find their plateau.

A curve is a run's evaluations of its deterministic policy during training (the
``eval_*`` columns of each seed's ``metrics.csv``, written every ``eval_every_updates``):
Delta on logit markets, else the mean posted price (currency/kWh), the quantity the
reports compare with the benchmarks. (Profit is a poor convergence signal there: near the
optimum it is flat in the price, so it stops moving long before the prices do.)

The plateau test (:func:`plateau_step`) decides how long an arm needs to train from the
measured curve, not from a guess: the mean curve over seeds has reached its plateau at the
first evaluation after which every later evaluation stays within ``tol`` (5%) of the
benchmark scale of the final level (the mean of the last three evaluations). The scale is
the distance the experiments measure prices on: from Nash to joint profit, that is 1 in
Delta and ``joint - Nash`` in price; where a market has no such benchmark, the curve's own
range. A curve whose last three evaluations are not all within that band has not reached
a plateau: the arm should train longer.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from evprice.analysis.stats import mean_ci

PLATEAU_TOL = 0.05
"""Share of a curve's whole change within which its later evaluations must stay."""
PLATEAU_TAIL = 3
"""Evaluations averaged for the final level; a plateau needs at least these within the band."""


def read_curve(run_dir: str | Path) -> dict[str, list[float]]:
    """``{"env_steps": (E,), "metric": name, "values": (E,)}`` of one seed's run folder: its
    evaluations during training, Delta where defined (``eval_delta``), else the mean posted
    price (``eval_price``, currency/kWh)."""
    with (Path(run_dir) / "metrics.csv").open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r.get("eval_return")]
    metric = "eval_delta" if rows and rows[0].get("eval_delta") else "eval_price"
    return {
        "env_steps": [float(r["env_steps"]) for r in rows],
        "metric": metric,  # type: ignore[dict-item]
        "values": [float(r[metric]) for r in rows],
    }


def band(
    curves: list[dict[str, Any]], scale: float | None = None, scale_from: str = "the Nash-to-joint distance"
) -> dict[str, Any]:
    """Mean and 95% t-interval over seeds at each evaluation of ``curves`` (one per seed, all
    evaluated at the same env-steps), and the mean curve's plateau on ``scale`` (named by
    ``scale_from``: the benchmark distance, or the price range; None: the curve's range):
    ``{"env_steps", "metric", "mean", "low", "high", "scale", "scale_from", "plateau_step"}``,
    lists of (E,)."""
    steps = curves[0]["env_steps"]
    for c in curves:
        if c["env_steps"] != steps:
            raise ValueError("the seeds' curves were evaluated at different env-steps")
    values = np.array([c["values"] for c in curves])  # (K, E)
    stats = [mean_ci(values[:, e]) for e in range(values.shape[1])]
    mean = [m for m, _ in stats]
    low = [m if ci is None else ci[0] for m, ci in stats]
    high = [m if ci is None else ci[1] for m, ci in stats]
    return {
        "env_steps": steps,
        "metric": curves[0]["metric"],
        "mean": mean,
        "low": low,
        "high": high,
        "scale": scale if scale is not None else float(np.ptp(mean)),
        "scale_from": scale_from if scale is not None else "the curve's range",
        "plateau_step": plateau_step(steps, mean, scale if scale is not None else float(np.ptp(mean))),
    }


def plateau_step(
    steps: list[float],
    curve: list[float],
    scale: float,
    tol: float = PLATEAU_TOL,
    tail: int = PLATEAU_TAIL,
) -> float | None:
    """The env-steps at which ``curve`` (E,) reached its plateau: the first evaluation after
    which every later one lies within ``tol x scale`` of the mean of the last ``tail``; None
    when the curve has fewer than ``tail`` evaluations or its last ``tail`` are not all within
    that band (still moving)."""
    y = np.asarray(curve, dtype=np.float64)
    if len(y) < tail:
        return None
    final = float(y[-tail:].mean())
    width = tol * abs(float(scale)) if scale else tol * max(abs(final), 1e-12)
    inside = np.abs(y - final) <= width
    if not inside[-tail:].all():
        return None
    first = len(y)
    while first > 0 and inside[first - 1]:
        first -= 1
    return float(steps[first])


def plateau_note(label: str, b: dict[str, Any], trained_steps: int) -> str:
    """One report line on an arm's curve: where it reached its plateau, or that it did not."""
    what = "Delta" if b["metric"] == "eval_delta" else "posted price"
    band_text = f"{PLATEAU_TOL * b['scale']:.3g}" + ("" if b["metric"] == "eval_delta" else " currency/kWh")
    if b["plateau_step"] is None:
        return (
            f"{label}: the mean evaluation {what} had not reached a plateau after {trained_steps:,} env-steps "
            f"(its last {PLATEAU_TAIL} evaluations are not within {band_text} of their mean): train longer."
        )
    return (
        f"{label}: the mean evaluation {what} reached its plateau at {b['plateau_step']:,.0f} of "
        f"{trained_steps:,} env-steps (every later evaluation within {band_text} of the final level, "
        f"{PLATEAU_TOL:.0%} of {b.get('scale_from', 'the Nash-to-joint distance')})."
    )
