"""``evprice``: the command line.

    evprice rollout [--env ID] [--policy random|fixed] [--price P] [--episodes N]
                    [--seed S] [--config FILE.yaml] [--set key=value ...] [--json]
    evprice envs
    evprice config [--env ID] [--config FILE.yaml] [--set key=value ...]

Overrides come from ``--config`` (a YAML mapping of config keys; it may also name the
``env``), then from each ``--set key=value`` (the value is read as YAML: ``4``,
``[2, 6]``, ``null``). A bad key or value stops the command with a message that names it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evprice.analysis.rollouts import rollout
from evprice.core.actions import ActionError
from evprice.core.config import ConfigError, load_overrides_file, parse_assignment
from evprice.envs.registry import registered_ids, spec
from evprice.market.config import describe_fields
from evprice.policies.baselines import POLICIES

DEFAULT_ENV = "PublicCharging-v0"


def _resolve(env_id: str | None, config_file: str | None, assignments: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    overrides: dict[str, Any] = {}
    file_env = None
    if config_file:
        overrides = load_overrides_file(config_file)
        file_env = overrides.pop("env", None)
    for text in assignments:
        key, value = parse_assignment(text)
        overrides[key] = value
    env = env_id or file_env or DEFAULT_ENV
    spec(env).make_config(overrides)  # validate now, with a clear message
    return env, overrides


class _Command(click.Command):
    """Turn configuration errors into a one-line usage error (exit code 2), not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, ActionError) as err:
            raise click.UsageError(str(err), ctx) from None


_env_option = click.option("--env", "env_id", default=None, help=f"environment id (default {DEFAULT_ENV})")
_config_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), default=None, help="YAML file of config overrides"
)
_set_option = click.option(
    "--set", "assignments", multiple=True, metavar="KEY=VALUE", help="override one config key (repeatable)"
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="evprice")
def main() -> None:
    """Price public EV charging stations with reinforcement learning."""


@main.command(cls=_Command)
@_env_option
@click.option("--policy", type=click.Choice(sorted(POLICIES)), default="random", show_default=True)
@click.option(
    "--price", type=float, default=None, help="price of the fixed policy (default: middle of each station's bounds)"
)
@click.option("--episodes", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@_config_option
@_set_option
@click.option("--json", "as_json", is_flag=True, help="print one JSON object instead of a table")
def rollout_cmd(env_id, policy, price, episodes, seed, config_file, assignments, as_json) -> None:
    """Roll a baseline policy out and print per-station totals."""
    env, overrides = _resolve(env_id, config_file, assignments)
    if price is not None and policy != "fixed":
        raise ConfigError("--price only applies to --policy fixed")
    err = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=as_json or not err.is_terminal,
    ) as progress:
        task = progress.add_task(f"{env} / {policy}", total=None)
        summary = rollout(
            env,
            policy,
            episodes=episodes,
            seed=seed,
            overrides=overrides,
            price=price,
            on_period=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if as_json:
        click.echo(json.dumps(summary))
        return
    _print_summary(summary)


rollout_cmd.name = "rollout"


def _print_summary(summary: dict[str, Any]) -> None:
    cur = summary["currency"]
    table = Table(
        title=f"{summary['env']}: policy {summary['policy']}, {summary['episodes']} episode(s), seed {summary['seed']}",
        caption=f"prices in {cur}/kWh, money in {cur}, energy in kWh; totals over all episodes",
    )
    table.add_column("station", no_wrap=True)
    for col in ("price", "profit", "revenue", "energy", "admitted", "blocked", "util."):
        table.add_column(col, justify="right", no_wrap=True)
    for s in summary["stations"]:
        table.add_row(
            s["id"],
            f"{s['mean_price']:.3f}",
            f"{s['profit']:,.1f}",
            f"{s['revenue']:,.1f}",
            f"{s['energy_kwh']:,.1f}",
            str(s["admitted"]),
            str(s["blocked"]),
            f"{s['utilization']:.1%}",
        )
    m = summary["market"]
    out = Console()
    out.print(table)
    out.print(
        f"market: {m['arrivals']} arrivals = {m['admitted']} admitted + {m['blocked']} blocked + "
        f"{m['gave_up']} gave up; profit {m['profit']:,.1f} {cur}"
    )


@main.command()
def envs() -> None:
    """List the registered environments."""
    for env_id in registered_ids():
        click.echo(f"{env_id}\t{spec(env_id).description}")


@main.command(cls=_Command)
@_env_option
@_config_option
@_set_option
def config(env_id, config_file, assignments) -> None:
    """Print the resolved configuration as YAML, each key with its unit and meaning."""
    env, overrides = _resolve(env_id, config_file, assignments)
    cfg = spec(env).make_config(overrides)
    values = cfg.to_dict()
    click.echo(f"# {env}")
    for row in describe_fields():
        click.echo(f"# {row['doc']} [{row['unit']}]")
        click.echo(yaml.safe_dump({row["name"]: values[row["name"]]}, default_flow_style=True, width=10_000).strip())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
