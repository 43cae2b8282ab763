"""The ``communication`` experiment (issue 23): what talk does to prices.

Independent learners (MAPPO, individual rewards) on ``LogitBertrand-v0`` and a charging
market (``PublicCharging-v0``, or ``--env`` / ``--scenario``), in six arms that differ only
in the coordination protocol (:mod:`evprice.market.protocol`):

* no talk (``protocol="none"``);
* cheap talk: two values in [-1, 1] per message, seen next period;
* announcements of the next price, free to break (``deviation_cost = 0``);
* announcements of the next price, costly to break: 0.5 reward per price range of deviation;
* a mediator that maximises the stations' total profit;
* a mediator that maximises welfare (consumer surplus plus profit).

The report gives the learned prices against the Nash and joint prices, Delta and each arm's
difference from no talk with 95% intervals over seeds. It then says how much the signals
carry: out of sample, the share of the next price a linear function of a station's signal
explains, and how much that adds to its current price
(:func:`evprice.analysis.messages.linear_probe`). For a price-valued signal (an announcement
or a recommendation) it also gives the mean gap between the signal and the price posted
after it. It shows each market's consumer surplus and welfare and figures of the signals
over one evaluation episode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from evprice.analysis import figures
from evprice.analysis.experiments import Experiment, ExperimentResult, ExperimentSettings, markdown_table, register
from evprice.analysis.stats import diff_ci, mean_ci
from evprice.analysis.studies.arms import DEFAULT_STEPS, _arms_study
from evprice.analysis.studies.coordination import _benchmark_text, _markets
from evprice.analysis.studies.report import _comparison_result

DEVIATION_COST = 0.5
"""The costly-announcement arm's cost of posting away from the announcement: reward per price range
(a tenth of the range costs 0.05 a period, about a fifth of a station's profit at Nash on
``LogitBertrand-v0``)."""
MESSAGE_DIM = 2

PROTOCOL_ARMS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("no talk", {}),
    ("cheap talk", {"protocol": "cheap_talk", "message_dim": MESSAGE_DIM}),
    ("announcements (free)", {"protocol": "announcement", "deviation_cost": 0.0}),
    ("announcements (costly)", {"protocol": "announcement", "deviation_cost": DEVIATION_COST}),
    ("mediator (profit)", {"protocol": "mediator", "mediator_reward": "profit"}),
    ("mediator (welfare)", {"protocol": "mediator", "mediator_reward": "welfare"}),
)
"""Each arm's name and its overrides (on top of individual rewards)."""


def _arms(settings: ExperimentSettings) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (f"{market} {name}", env_id, {"reward": "individual", **protocol})
        for market, env_id in _markets(COMMUNICATION, settings)
        for name, protocol in PROTOCOL_ARMS
    ]


def _seed_means(rows: list[dict[str, Any]], label: str, key: str) -> list[float]:
    """Per seed of arm ``label``: ``key``'s mean over the stations (a per-station list) or its value."""
    out = []
    for r in rows:
        if r["arm"] != label or r.get(key) is None:
            continue
        value = r[key]
        if isinstance(value, list):
            kept = [v for v in value if v is not None]
            if not kept:
                continue
            value = float(np.mean(kept))
        out.append(float(value))
    return out


def _cell(values: list[float], digits: int = 3) -> str:
    if not values:
        return "-"
    mean, ci = mean_ci(values)
    return f"{mean:.{digits}f}" + ("" if ci is None else f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]")


def _signal_table(rows: list[dict[str, Any]], arms: list[tuple[str, str, dict[str, Any]]]) -> str:
    """Per protocol arm: the probes' R^2, the gain over the price alone, the signal's spread and gap."""
    table = []
    for label, _, overrides in arms:
        if overrides.get("protocol") is None:
            continue
        table.append(
            [
                label,
                _cell(_seed_means(rows, label, "signal_r2")),
                _cell(_seed_means(rows, label, "signal_r2_price")),
                _cell(_seed_means(rows, label, "signal_r2_gain")),
                _cell(_seed_means(rows, label, "signal_std")),
                _cell(_seed_means(rows, label, "signal_gap")),
            ]
        )
    header = [
        "arm",
        "R² of the next price on the signal",
        "R² on the current price alone",
        "R² gain of the signal over the price",
        "signal spread (std)",
        "mean |next price − signal|",
    ]
    return markdown_table(header, table)


def _no_talk(label: str) -> str:
    """The label of the no-talk arm on the same market as arm ``label``."""
    name = next(n for n, _ in PROTOCOL_ARMS if label.endswith(f" {n}"))
    return label.removesuffix(name) + PROTOCOL_ARMS[0][0]


def _welfare_table(rows: list[dict[str, Any]], arms: list[tuple[str, str, dict[str, Any]]]) -> str:
    """Per arm: profit per station, the market's consumer surplus and welfare per episode, and
    the welfare minus its market's no-talk arm's (Welch 95% interval over seeds)."""
    table = []
    for label, _, overrides in arms:
        welfare = _seed_means(rows, label, "social_welfare")
        base = _seed_means(rows, _no_talk(label), "social_welfare")
        gain = "-"
        if overrides.get("protocol") is not None and welfare and base:
            d, ci = diff_ci(welfare, base)
            gain = f"{d:.2f}" + ("" if ci is None else f" [{ci[0]:.2f}, {ci[1]:.2f}]")
        table.append(
            [
                label,
                _cell(_seed_means(rows, label, "profit"), 2),  # the per-station list's mean
                _cell(_seed_means(rows, label, "consumer_surplus"), 2),
                _cell(welfare, 2),
                gain,
            ]
        )
    header = [
        "arm",
        "profit / station / episode",
        "consumer surplus / episode",
        "welfare / episode",
        "welfare − no talk",
    ]
    return markdown_table(header, table)


def _signal_figures(rows: list[dict[str, Any]], arms: list[tuple[str, str, dict[str, Any]]], out: Path) -> list:
    """Per protocol arm (seed 0): each station's signal over one evaluation episode, with its
    posted prices where the signal is a price."""
    figs = []
    for label, _, overrides in arms:
        protocol = overrides.get("protocol")
        first = next((r for r in rows if r["arm"] == label and r["seed"] == 0), None)
        if protocol is None or first is None or "signal_0" not in first["path"]:
            continue
        path = first["path"]
        x = np.arange(len(path["hour"]))
        keys = sorted(k for k in path if k.startswith("signal_"))
        n = len(path["price"][0])
        series = {}
        if protocol == "cheap_talk":
            for i in range(n):
                for k in keys:
                    series[f"station_{i + 1} message value {k.split('_')[1]}"] = [v[i] for v in path[k]]
            ylabel = "message value"
        else:
            what = "announced" if protocol == "announcement" else "recommended"
            for i in range(n):  # the signal of period t - 1 is for period t: drawn at t, over the price it led to
                series[f"station_{i + 1} {what}"] = [np.nan] + [v[i] for v in path["signal_0"][:-1]]
                series[f"station_{i + 1} posted"] = [v[i] for v in path["price"]]
            ylabel = "price (currency/kWh)"
        name = label.replace(" ", "_").replace("(", "").replace(")", "")
        fig = figures.lines(
            out / "figures" / f"signals_{name}.png",
            x,
            series,
            title=f"Signals over one evaluation episode: {label} (seed 0)",
            xlabel=f"pricing period (from {path['hour'][0]:.0f}:00)",
            ylabel=ylabel,
        )
        figs.append((f"What each station's protocol published over one evaluation episode: {label}, seed 0", fig))
    return figs


def _communication(settings: ExperimentSettings, out: Path) -> ExperimentResult:
    steps = settings.steps or COMMUNICATION.default_steps
    arms = _arms(settings)
    rows, summary = _arms_study(settings, out, arms=arms, steps=steps)
    notes = []
    for market, _ in _markets(COMMUNICATION, settings):
        prices = ", ".join(
            f"{name} {np.mean(summary[f'{market} {name}']['mean_price']):.3f}" for name, _ in PROTOCOL_ARMS
        )
        notes.append(f"{market}: mean learned price {prices}{_benchmark_text(summary[f'{market} no talk'])}.")
    question = (
        "Does letting independent learners talk (cheap talk, announcements of their next price, or a mediator's "
        "recommendations) move the prices they settle on towards the joint-profit price, and do their signals "
        "carry information about the prices that follow?"
    )
    pairs = []
    for market, _ in _markets(COMMUNICATION, settings):
        pairs += [(f"{market} {name}", f"{market} no talk") for name, _ in PROTOCOL_ARMS[1:]]
        pairs.append((f"{market} announcements (costly)", f"{market} announcements (free)"))  # what the cost adds
    result = _comparison_result(question, rows, summary, out, "protocol", notes, pairs)
    result.tables.append(
        (
            "What the signals carry (out of sample, mean over stations, 95% intervals over seeds)",
            _signal_table(rows, arms),
        )
    )
    result.tables.append(
        ("Profit, consumer surplus and welfare (mean over seeds, 95% intervals)", _welfare_table(rows, arms))
    )
    result.figures.extend(_signal_figures(rows, arms, out))
    result.notes.append(
        "The probe fits least squares of each station's next price on its signal (plus an intercept) over the first "
        f"half of the {settings.episodes} evaluation episodes and judges R² on the rest; the gain is R² with the "
        "current price and the signal minus R² with the price alone. A constant signal explains nothing (R² about 0); "
        "R² is left out where the judged prices do not vary."
    )
    return result


COMMUNICATION = register(
    Experiment(
        name="communication",
        description="No talk vs cheap talk vs announcements vs a mediator (profit or welfare), individual rewards "
        "(MAPPO), on LogitBertrand-v0 and a charging market (PublicCharging-v0, or --env; --scenario: its market).",
        default_steps=DEFAULT_STEPS,
        run=_communication,
        market_env="PublicCharging-v0",
    )
)
