"""The ``capacity`` experiment: chargers per station on a charging market, against the capacity-aware Nash prices."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evprice.analysis import figures
from evprice.analysis.experiments import (
    Experiment,
    ExperimentResult,
    ExperimentSettings,
    register,
)
from evprice.analysis.studies.arms import DEFAULT_STEPS, _arms_study
from evprice.analysis.studies.report import (
    _curve_figures,
    _curve_notes,
    _grid_notes,
    _outcome_figures,
    _path_figures,
    _price_table,
)

CAPACITY_CHARGERS = (2, 4, 8, 16)


def _capacity(settings: ExperimentSettings, out: Path) -> ExperimentResult:
    steps = settings.steps or CAPACITY.default_steps
    env = CAPACITY.market(settings)
    arms = [(f"{c} chargers", env, {"reward": "individual", "chargers_per_station": c}) for c in CAPACITY_CHARGERS]
    rows, summary = _arms_study(settings, out, arms=arms, steps=steps)
    labels = list(summary)
    price = [float(np.mean(summary[k]["mean_price"])) for k in labels]
    capacity_nash = [
        float(np.mean(summary[k]["capacity_nash_prices"])) if "capacity_nash_prices" in summary[k] else np.nan
        for k in labels
    ]
    nash = [float(np.mean(summary[k]["nash_prices"])) if summary[k]["nash_prices"] else np.nan for k in labels]
    blocked = [float(summary[k]["blocked"]) for k in labels]
    fig_prices = figures.lines(
        out / "figures" / "capacity_prices.png",
        list(CAPACITY_CHARGERS),
        {"learned (MAPPO, individual)": price},
        references={
            name: line
            for name, line in (("capacity-aware Nash", capacity_nash), ("Nash without capacity", nash))
            if not np.isnan(line).all()  # a market without the static theory has neither
        },
        title="Prices by chargers per station",
        xlabel="chargers per station",
        ylabel="mean price (currency/kWh)",
    )
    fig_blocked = figures.lines(
        out / "figures" / "capacity_blocking.png",
        list(CAPACITY_CHARGERS),
        {"blocked EVs per episode": blocked},
        title="Blocking by chargers per station",
        xlabel="chargers per station",
        ylabel="EVs turned away per episode",
    )
    notes = [
        f"With {c} chargers: learned mean price {p:.3f}, "
        + ("no capacity-aware Nash price" if np.isnan(cn) else f"capacity-aware Nash {cn:.3f}")
        + f", {b:.1f} EVs blocked per episode."
        for c, p, cn, b in zip(CAPACITY_CHARGERS, price, capacity_nash, blocked)
    ]
    reason = summary[labels[0]].get("no_theory")
    if reason is not None:
        notes.append(f"No static benchmark applies to this market: {reason}.")
    return ExperimentResult(
        question="How do learned prices and blocking change with the chargers per station, and do they "
        "follow the capacity-aware Nash prices (scarcity raises the equilibrium price)?",
        rows=rows,
        summary=summary,
        tables=[("Learned prices against the benchmarks", _price_table(summary))],
        figures=[
            ("Learned prices against the capacity-aware and plain Nash prices", fig_prices),
            ("EVs turned away by full stations", fig_blocked),
        ]
        + _outcome_figures(summary, out, "chargers")
        + _path_figures(rows, summary, out)
        + _curve_figures(summary, out),
        notes=notes + _grid_notes(rows, summary) + _curve_notes(summary),
    )


CAPACITY = register(
    Experiment(
        name="capacity",
        description="Chargers per station on a charging market (PublicCharging-v0, or --env; MAPPO, individual "
        "rewards) against the capacity-aware Nash prices.",
        default_steps=DEFAULT_STEPS,
        run=_capacity,
        market_env="PublicCharging-v0",
    )
)
