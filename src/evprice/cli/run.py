"""``evprice rollout``, ``evaluate`` and ``theory``: play a policy, evaluate it with intervals,
print the game-theory benchmarks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from rich.table import Table

from evprice.analysis.reports import benchmark_table
from evprice.analysis.rollouts import evaluate, rollout
from evprice.cli.base import (
    _checkpoint_policy,
    _Command,
    _config_option,
    _console,
    _env_option,
    _interval,
    _resolve,
    _run_progress,
    _set_option,
    main,
)
from evprice.core.config import ConfigError
from evprice.envs.registry import make_env
from evprice.policies.baselines import POLICIES
from evprice.policies.theory import benchmarks


def _run_options(default_episodes: int, policy_default: str | None) -> Callable[[Callable], Callable]:
    """The options shared by ``rollout`` and ``evaluate``."""
    options = [
        _env_option,
        click.option(
            "--policy",
            type=click.Choice(list(POLICIES)),
            default=policy_default,
            show_default=policy_default is not None,
        ),
        click.option(
            "--price", type=float, default=None, help="fixed policy: the price (default: middle of the bounds)"
        ),
        click.option("--markup", type=float, default=None, help="time_of_use policy: price minus wholesale price"),
        click.option("--episodes", type=click.IntRange(min=1), default=default_episodes, show_default=True),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True),
        _config_option,
        _set_option,
        click.option("--json", "as_json", is_flag=True, help="print one JSON object instead of a table"),
    ]

    def decorate(fn: Callable) -> Callable:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def _run(
    fn: Callable[..., dict[str, Any]], env_id, policy, price, markup, episodes, seed, config_file, assignments, quiet
):
    env, overrides = _resolve(env_id, config_file, assignments)
    options = {k: v for k, v in (("price", price), ("markup", markup)) if v is not None}
    with _run_progress(quiet) as progress:
        task = progress.add_task(f"{env} / {getattr(policy, '__name__', policy)}", total=None)
        return fn(
            env,
            policy,
            episodes=episodes,
            seed=seed,
            overrides=overrides,
            on_period=lambda done, total: progress.update(task, completed=done, total=total),
            **options,
        )


@main.command("rollout", cls=_Command)
@_run_options(default_episodes=1, policy_default="random")
def rollout_cmd(env_id, policy, price, markup, episodes, seed, config_file, assignments, as_json) -> None:
    """Roll a policy out and print per-station totals."""
    summary = _run(rollout, env_id, policy, price, markup, episodes, seed, config_file, assignments, as_json)
    click.echo(json.dumps(summary)) if as_json else _print_summary(summary)


@main.command("evaluate", cls=_Command)
@_run_options(default_episodes=10, policy_default=None)
@click.option(
    "--checkpoint",
    type=click.Path(),
    default=None,
    help="a trained policy (evprice train): a .pt file or its run folder; its env and config are used",
)
def evaluate_cmd(env_id, policy, price, markup, episodes, seed, config_file, assignments, as_json, checkpoint) -> None:
    """Evaluate a policy: totals with 95% confidence intervals over episodes, and Delta for logit markets."""
    if (policy is None) == (checkpoint is None):
        raise ConfigError("give exactly one of --policy NAME and --checkpoint PATH")
    if checkpoint is not None:
        policy, env_id, assignments = _checkpoint_policy(checkpoint, env_id, assignments)
    summary = _run(evaluate, env_id, policy, price, markup, episodes, seed, config_file, assignments, as_json)
    click.echo(json.dumps(summary)) if as_json else _print_summary(summary)


@main.command(cls=_Command)
@_env_option
@_config_option
@_set_option
@click.option(
    "--leader", default=None, help="the Stackelberg leader [default: the environment's leader, else station_1]"
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--markdown", is_flag=True, help="print a Markdown table")
def theory(env_id, config_file, assignments, leader, as_json, markdown) -> None:
    """Bertrand-Nash, joint-profit and Stackelberg benchmarks of an environment's market."""
    env_name, overrides = _resolve(env_id, config_file, assignments)
    env = make_env(env_name, 1, **overrides)
    if leader is not None and leader not in env.agent_ids:
        raise ConfigError(f"--leader {leader!r} is invalid: expected one of {', '.join(env.agent_ids)}")
    try:
        report = benchmarks(env, leader=None if leader is None else env.agent_ids.index(leader))
    except (ValueError, RuntimeError) as err:  # probit noise (no logit theory), a solver that fails
        raise ConfigError(f"{env_name}: {err}") from None
    if as_json:
        click.echo(json.dumps(report))
    elif markdown:
        click.echo(benchmark_table(report))
    else:
        _print_theory(report)


def _print_summary(summary: dict[str, Any]) -> None:
    cur = summary["currency"]
    table = Table(
        title=f"{summary['env']}: policy {summary['policy']}, {summary['episodes']} episode(s), seed {summary['seed']}",
        caption=f"prices in {cur}/kWh, money in {cur}, energy in kWh; totals over all episodes"
        + ("; ± half-width of the 95% CI" if "delta" in summary or "ci95" in summary["market"] else ""),
    )
    table.add_column("station", no_wrap=True)
    for col in ("price", "profit", "revenue", "energy", "admitted", "blocked", "util."):
        table.add_column(col, justify="right", no_wrap=True)
    for s in summary["stations"]:
        ci = s.get("ci95", {})
        table.add_row(
            s["id"],
            f"{s['mean_price']:.3f}",
            f"{s['profit']:,.1f}" + _interval(ci.get("profit"), ",.1f"),
            f"{s['revenue']:,.1f}",
            f"{s['energy_kwh']:,.1f}",
            f"{s['admitted']:,.6g}",
            f"{s['blocked']:,.6g}",
            f"{s['utilization']:.1%}",
        )
    m = summary["market"]
    out = _console()
    out.print(table)
    out.print(
        f"market: {m['arrivals']:,.6g} arrivals = {m['admitted']:,.6g} admitted + {m['blocked']:,.6g} blocked + "
        f"{m['gave_up']:,.6g} gave up; profit {m['profit']:,.1f} {cur}"
        + _interval(m.get("ci95", {}).get("profit"), ",.1f")
    )
    if "costs" in summary:
        c = summary["costs"]
        out.print(
            f"grid costs: voltage {c['voltage']:.4g} p.u., line {c['line']:.4g}, carbon {c['carbon']:,.1f} kg CO2 "
            f"above the cap; total {c['total']:.4g}"
            + _interval(c.get("ci95", {}).get("total"), ".4g")
            + f"; {c['violating_periods']} period(s) with a positive cost"
        )
    if "delta" in summary:
        d = summary["delta"]
        parts = [
            f"{k} " + ("undefined" if d[k] is None else f"{d[k]:.3f}{_interval(d['ci95'][k], '.3f')}")
            for k in d
            if k != "ci95"
        ]
        out.print("Delta (0 = Nash, 1 = joint optimum): " + ", ".join(parts))


def _print_theory(report: dict[str, Any]) -> None:
    cur = report["currency"]
    table = Table(
        title=f"{report['env']}: price benchmarks ({report['kind']})",
        caption=f"price in {cur}/kWh / profit in {cur} per pricing period, before fixed costs",
    )
    table.add_column("benchmark", no_wrap=True)
    for i in range(len(report["nash"]["prices"])):
        table.add_column(f"station_{i + 1}", justify="right", no_wrap=True)
    table.add_column("outside share", justify="right")
    rows = [("Nash", report["nash"]), ("joint", report["joint"])]
    rows.append((f"Stackelberg ({report['stackelberg']['leader']} leads)", report["stackelberg"]))
    if "capacity" in report:
        rows += [("capacity Nash", report["capacity"]["nash"]), ("capacity joint", report["capacity"]["joint"])]
    for name, sol in rows:
        if sol is not None:
            cells = [f"{p:.4f} / {v:.4f}" for p, v in zip(sol["prices"], sol["profits"])]
            table.add_row(name, *cells, f"{sol['outside_share']:.4f}")
    out = _console()
    out.print(table)
    for caveat in report["caveats"]:
        out.print(f"- {caveat}")
