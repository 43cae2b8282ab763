"""The experiments' report pieces: price tables, Delta, outcome, price, path and learning-curve
figures, differences with intervals, grid notes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from evprice.analysis import figures
from evprice.analysis.curves import plateau_note
from evprice.analysis.experiments import (
    ExperimentResult,
    markdown_table,
)
from evprice.analysis.stats import diff_ci


def _market(entry: Mapping[str, Any]) -> str:
    """The market an arm's summary entry or row is on: its scenario's name, else its env id."""
    return str(entry.get("market", entry["env"]))


def _markets(summary: Mapping[str, Any]) -> list[str]:
    """The markets of a study's arms, in order; figures are drawn per market."""
    return list(dict.fromkeys(_market(s) for s in summary.values()))


def _has_chargers(entry: Mapping[str, Any]) -> bool:
    """Whether an arm's market has chargers (summaries written before the key existed: yes)."""
    return bool(entry.get("chargers", True))


LISTED_STATIONS = 4
"""Price tables list each station's price up to this many stations; a bigger market's cell
gives the mean and range over its stations (its per-station figure has them all)."""


def _prices_cell(prices: list[float] | None) -> str:
    """Per-station prices (currency/kWh) as one table cell: listed, or mean and range."""
    if prices is None:
        return "-"
    if len(prices) <= LISTED_STATIONS:
        return ", ".join(f"{p:.3f}" for p in prices)
    return f"{np.mean(prices):.3f} mean, {min(prices):.3f}-{max(prices):.3f} over {len(prices)} stations"


def _price_table(summary: Mapping[str, Any]) -> str:
    grid = any("violating_periods" in s for s in summary.values())
    blocking = any(_has_chargers(s) for s in summary.values())  # a column only where it means something
    rows = []
    for label, s in summary.items():
        rows.append(
            [
                label,
                _prices_cell(s["mean_price"]),
                _prices_cell(s["nash_prices"]),
                _prices_cell(s["joint_prices"]),
                s.get("delta"),
                "-" if s.get("delta_ci95") is None else f"[{s['delta_ci95'][0]:.3f}, {s['delta_ci95'][1]:.3f}]",
                float(s["profit"]),
            ]
            + ([float(s["blocked"]) if _has_chargers(s) else "-"] if blocking else [])
            + ([s.get("violating_periods")] if grid else [])
        )
    header = [
        "arm",
        "learned mean prices",
        "Nash prices",
        "joint prices",
        "Delta",
        "Delta 95% CI",
        "profit / episode",
    ]
    header += ["blocked / episode"] if blocking else []
    return markdown_table(header + (["periods out of grid limits / episode"] if grid else []), rows)


def _delta_figure(summary: Mapping[str, Any], out: Path, title: str) -> list[tuple[str, Path]]:
    labels = [k for k, s in summary.items() if s.get("delta") is not None]
    if not labels:
        return []
    path = figures.bars_with_ci(
        out / "figures" / "delta.png",
        labels,
        [summary[k]["delta"] for k in labels],
        [summary[k].get("delta_ci95") for k in labels],
        title=title,
        ylabel="Delta (0 = Nash, 1 = joint profit)",
        references={"Nash": 0.0, "joint": 1.0},
    )
    return [("Delta by arm, mean over seeds with 95% intervals", path)]


def _outcome_figures(summary: Mapping[str, Any], out: Path, factor: str) -> list[tuple[str, Path]]:
    """Per environment: the stations' total profit and the EVs turned away per evaluation
    episode, by arm, means over seeds with 95% intervals."""
    figs = []
    for env in _markets(summary):
        labels = [k for k, s in summary.items() if _market(s) == env]
        outcomes = [("profit", "profit per episode, all stations (currency)", "Profit")]
        if any(_has_chargers(summary[k]) for k in labels):  # no chargers, no blocking to plot
            outcomes.append(("blocked", "EVs turned away per episode", "Blocking"))
        for key, ylabel, what in outcomes:
            path = figures.bars_with_ci(
                out / "figures" / f"{key}_{env}.png",
                labels,
                [float(summary[k][key]) for k in labels],
                [summary[k].get(f"{key}_ci95") for k in labels],
                title=f"{what} by {factor}: {env}",
                ylabel=ylabel,
            )
            figs.append((f"{what} per evaluation episode on {env} by arm, mean over seeds with 95% intervals", path))
    return figs


def _price_figures(summary: Mapping[str, Any], out: Path, title: str) -> list[tuple[str, Path]]:
    """One bar chart of mean learned prices per environment, with its Nash and joint prices."""
    figs = []
    for env in _markets(summary):
        labels = [k for k, s in summary.items() if _market(s) == env]
        references = _benchmark_levels(summary[labels[0]])
        path = figures.bars_with_ci(
            out / "figures" / f"prices_{env}.png",
            labels,
            [float(np.mean(summary[k]["mean_price"])) for k in labels],
            [None] * len(labels),
            title=f"{title}: {env}",
            ylabel="mean learned price (currency/kWh)",
            references=references,
        )
        figs.append((f"Mean learned price on {env} (stations averaged){_with_benchmarks(references)}", path))
    return figs


def _benchmark_levels(entry: Mapping[str, Any]) -> dict[str, float]:
    """The station-averaged Nash and joint prices of an arm's market (currency/kWh), those it has."""
    levels = {}
    for name, key in (("Nash", "nash_prices"), ("joint", "joint_prices")):
        if entry.get(key) is not None:
            levels[name] = float(np.mean(entry[key]))
    return levels


def _with_benchmarks(levels: Mapping[str, float]) -> str:
    if not levels:
        return " (no static benchmark applies)"
    return ", with its " + " and ".join(levels) + " price" + ("s" if len(levels) > 1 else "")


def _station_figures(summary: Mapping[str, Any], out: Path) -> list[tuple[str, Path]]:
    """Per environment with more than :data:`LISTED_STATIONS` stations: each arm's learned
    price by station, mean over seeds with its 95% band (the table gives only the range)."""
    figs = []
    for env in _markets(summary):
        labels = [k for k, s in summary.items() if _market(s) == env]
        n = len(summary[labels[0]]["mean_price"])
        if n <= LISTED_STATIONS:
            continue
        series = {}
        for k in labels:
            mean = np.asarray(summary[k]["mean_price"], dtype=np.float64)
            cis = summary[k]["mean_price_ci95"]
            low = np.array([m if ci is None else ci[0] for m, ci in zip(mean, cis)])
            high = np.array([m if ci is None else ci[1] for m, ci in zip(mean, cis)])
            series[k] = (mean, low, high)
        path = figures.bands(
            out / "figures" / f"station_prices_{env}.png",
            np.arange(1, n + 1),
            series,
            title=f"Learned price by station: {env}",
            xlabel="station",
            ylabel="mean learned price (currency/kWh)",
        )
        figs.append((f"Learned price of each of the {n} stations on {env}, mean over seeds with a 95% band", path))
    return figs


def _path_figures(rows: list[dict[str, Any]], summary: Mapping[str, Any], out: Path) -> list[tuple[str, Path]]:
    """Per environment: the station-averaged price and utilisation over one evaluation
    episode of each arm's seed-0 policy, with the Nash and joint prices."""
    figs = []
    for env in _markets(summary):
        arms = [r for r in rows if _market(r) == env and r["seed"] == 0]
        hours = arms[0]["path"]["hour"]
        refs = {k: [v] * len(hours) for k, v in _benchmark_levels(summary[arms[0]["arm"]]).items()}
        x = np.arange(len(hours))
        price = figures.lines(
            out / "figures" / f"price_path_{env}.png",
            x,
            {r["arm"]: np.mean(r["path"]["price"], axis=1) for r in arms},
            references=refs,
            title=f"Prices over one evaluation episode: {env} (seed 0)",
            xlabel=f"pricing period (from {hours[0]:.0f}:00)",
            ylabel="price, stations averaged (currency/kWh)",
        )
        figs.append((f"Price path of one evaluation episode on {env}, each arm's seed-0 policy", price))
        if any(_has_chargers(summary[r["arm"]]) for r in arms):  # no chargers, nothing busy to plot
            use = figures.lines(
                out / "figures" / f"utilization_path_{env}.png",
                x,
                {r["arm"]: np.mean(r["path"]["utilization"], axis=1) for r in arms},
                title=f"Chargers busy over one evaluation episode: {env} (seed 0)",
                xlabel=f"pricing period (from {hours[0]:.0f}:00)",
                ylabel="share of chargers busy",
            )
            figs.append((f"Utilisation over the same episode on {env}", use))
        if "vm_min_pu" in arms[0]["path"]:
            figs += _grid_path_figures(arms, env, x, f"pricing period (from {hours[0]:.0f}:00)", out)
    return figs


def _grid_path_figures(
    arms: list[dict[str, Any]], env: str, x: np.ndarray, xlabel: str, out: Path
) -> list[tuple[str, Path]]:
    """The feeder's lowest voltage and most loaded monitored line over one evaluation episode
    of each arm's seed-0 policy, against the allowed band and the loading limit."""
    limits = arms[0]["path"]["grid_limits"]
    voltage = figures.lines(
        out / "figures" / f"voltage_path_{env}.png",
        x,
        {r["arm"]: r["path"]["vm_min_pu"] for r in arms},
        bands={"allowed band": (limits["vm_min_pu"], limits["vm_max_pu"])},
        title=f"Lowest bus voltage over one evaluation episode: {env} (seed 0)",
        xlabel=xlabel,
        ylabel="lowest bus voltage (p.u.)",
    )
    loading = figures.lines(
        out / "figures" / f"line_loading_path_{env}.png",
        x,
        {r["arm"]: r["path"]["max_line_loading"] for r in arms},
        references={"limit": [limits["line_loading_limit"]] * len(x)},
        title=f"Most loaded monitored line over one evaluation episode: {env} (seed 0)",
        xlabel=xlabel,
        ylabel="loading (fraction of rating)",
    )
    return [
        (f"The feeder's lowest voltage over the same episode on {env}, against the allowed band", voltage),
        (f"The most loaded monitored line over the same episode on {env}, against its limit", loading),
    ]


def _curve_figures(summary: Mapping[str, Any], out: Path) -> list[tuple[str, Path]]:
    """Per environment: each arm's learning curve, the mean over seeds of its evaluations
    during training with a 95% band, and where it reached its plateau."""
    figs = []
    for env in _markets(summary):
        labels = [k for k, s in summary.items() if _market(s) == env]
        curves = {k: summary[k]["curve"] for k in labels}
        first = curves[labels[0]]
        ylabel = (
            "Delta (0 = Nash, 1 = joint profit)"
            if first["metric"] == "eval_delta"
            else "mean posted price (currency/kWh)"
        )
        path = figures.bands(
            out / "figures" / f"learning_curve_{env}.png",
            np.asarray(first["env_steps"]),
            {k: (np.asarray(c["mean"]), np.asarray(c["low"]), np.asarray(c["high"])) for k, c in curves.items()},
            marks={f"plateau: {k}": c["plateau_step"] for k, c in curves.items() if c["plateau_step"] is not None},
            title=f"Learning curves: {env}",
            xlabel="training env-steps per seed",
            ylabel=f"evaluation {ylabel}",
        )
        figs.append(
            (
                f"Learning curves on {env}: the deterministic policy's evaluation during training, mean over seeds "
                "with a 95% band, and where each arm reached its plateau",
                path,
            )
        )
    return figs


def _curve_notes(summary: Mapping[str, Any]) -> list[str]:
    return [plateau_note(label, s["curve"], s["trained_steps"]) for label, s in summary.items()]


def _differences(
    rows: list[dict[str, Any]], summary: dict[str, Any], pairs: list[tuple[str, str]]
) -> tuple[str, list[str]]:
    """For each ``(a, b)`` pair of arm labels: ``a`` minus ``b`` in mean price, profit per
    episode and Delta, with 95% Welch intervals over the two arms' seeds (stored in
    ``summary[a]["minus"][b]``); a Markdown table and one finding per pair."""

    def per_seed(label: str, key: str) -> list[float]:
        picked = [r for r in rows if r["arm"] == label]
        if key == "mean_price":
            return [float(np.mean(r["mean_price"])) for r in picked]
        if key == "profit":
            return [float(sum(r["profit"])) for r in picked]
        return [r["delta"] for r in picked if r["delta"] is not None]

    table, notes = [], []
    for a, b in pairs:
        entry = {}
        for key in ("mean_price", "profit", "delta"):
            xa, xb = per_seed(a, key), per_seed(b, key)
            entry[key] = None if not xa or not xb else diff_ci(xa, xb)
        summary[a].setdefault("minus", {})[b] = {k: None if v is None else list(v) for k, v in entry.items()}
        cells = ["-" if v is None else f"{v[0]:.3f}{_interval(v[1])}" for v in entry.values()]
        table.append([f"{a} − {b}", *cells])
        d, ci = entry["mean_price"]
        verdict = (
            "its 95% interval excludes zero"
            if ci is not None and (ci[0] > 0 or ci[1] < 0)
            else "its 95% interval includes zero: no difference shown at this number of seeds"
        )
        notes.append(f"{a} minus {b}: mean price {d:+.3f}{_interval(ci)}; {verdict}.")
    header = ["difference (Welch 95% interval over seeds)", "mean price", "profit / episode", "Delta"]
    return markdown_table(header, table), notes


def _comparison_result(
    question: str,
    rows: list[dict[str, Any]],
    summary: dict[str, Any],
    out: Path,
    factor: str,
    notes: list[str],
    pairs: list[tuple[str, str]] = (),
) -> ExperimentResult:
    """The report of a study comparing arms that differ in one ``factor`` on the same environments:
    the price table, the differences of ``pairs`` of arms, Delta, prices against the
    benchmarks, the episode paths and the learning curves."""
    tables = [("Learned prices against the benchmarks", _price_table(summary))]
    if pairs:
        diff_table, diff_notes = _differences(rows, summary, list(pairs))
        tables.append((f"Differences by {factor}", diff_table))
        notes = notes + diff_notes
    return ExperimentResult(
        question=question,
        rows=rows,
        summary=summary,
        tables=tables,
        notes=notes + _grid_notes(rows, summary) + _curve_notes(summary),
        figures=_delta_figure(summary, out, f"Delta by {factor}")
        + _price_figures(summary, out, f"Prices by {factor}")
        + _station_figures(summary, out)
        + _outcome_figures(summary, out, factor)
        + _path_figures(rows, summary, out)
        + _curve_figures(summary, out),
    )


def _grid_notes(rows: list[dict[str, Any]], summary: Mapping[str, Any]) -> list[str]:
    """One line per grid-coupled arm: its periods per episode out of the grid's limits, and
    which cost terms put them there."""
    periods = {r["arm"]: len(r["path"]["hour"]) for r in rows}
    notes = []
    for label, s in summary.items():
        if "violating_periods" not in s:
            continue
        line = (
            f"{label}: {s['violating_periods']:.1f} of {periods[label]} periods per episode with a positive grid "
            "constraint cost"
        )
        terms = s.get("grid_costs")
        if terms is None:
            notes.append(line + " (voltage, line loading or carbon out of limits).")
            continue
        notes.append(
            f"{line}; per episode, voltage outside the band {terms['voltage']:.3g} p.u., line loading above the "
            f"limit {terms['line']:.3g}, carbon above the cap {terms['carbon']:.3g} kg CO2."
        )
    return notes


def _interval(ci: list[float] | None) -> str:
    return "" if ci is None else f" [{ci[0]:.3f}, {ci[1]:.3f}]"
