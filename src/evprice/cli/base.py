"""The command line's shared pieces: the root group, config resolution, common options,
configuration errors as usage errors, progress and console."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evprice.core.actions import ActionError
from evprice.core.config import ConfigError
from evprice.core.overrides import load_overrides_file, merge_overrides, parse_assignment
from evprice.envs.registry import spec

DEFAULT_ENV = "PublicCharging-v0"


def _resolve(
    env_id: str | None, config_file: str | None, assignments: tuple[str, ...], default: str = DEFAULT_ENV
) -> tuple[str, dict[str, Any]]:
    overrides, file_env = _overrides_given(config_file, assignments)
    scenario = _scenario()
    if scenario is not None and env_id is not None and env_id != scenario.env_id:
        raise ConfigError(f"--env {env_id} is invalid with --scenario: the scenario builds on {scenario.env_id}")
    env = env_id or file_env or default
    if scenario is not None:
        scenario.make_config(overrides)  # the scenario's layer is in overrides: errors name its lines
    else:
        spec(env).make_config(overrides)  # validate now, with a clear message
    return env, overrides


def _scenario() -> Any:
    """The scenario of ``--scenario PATH`` (None without one), read once per command."""
    ctx = click.get_current_context(silent=True)
    return None if ctx is None else ctx.meta.get("evprice.scenario")


def _overrides_given(
    config_file: str | None, assignments: tuple[str, ...], *, scenario_layer: bool = True
) -> tuple[dict[str, Any], str | None]:
    """The scenario's overrides (``--scenario``; left out with ``scenario_layer=False``, for a
    command that applies them itself), the config file's (without its ``env``), then each
    ``--set``, later ones winning (:func:`~evprice.core.overrides.merge_overrides`), and the
    environment they build on: the scenario's, else the file's ``env`` (None without one)."""
    scenario = _scenario()
    file_overrides = load_overrides_file(config_file) if config_file else {}
    file_env = file_overrides.pop("env", None)
    if scenario is not None and file_env is not None and file_env != scenario.env_id:
        raise ConfigError(f"config file env={file_env!r} is invalid with --scenario: it builds on {scenario.env_id}")
    layers = [dict([parse_assignment(text)]) for text in assignments]
    base = dict(scenario.overrides) if scenario is not None and scenario_layer else {}
    env = scenario.env_id if scenario is not None else file_env
    return merge_overrides(base, file_overrides, *layers), env


def _read_scenario(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        from evprice.envs.scenario import load_scenario

        try:
            ctx.meta["evprice.scenario"] = load_scenario(value)
        except ConfigError as err:
            raise click.UsageError(str(err), ctx) from None


class _Command(click.Command):
    """Turn configuration errors into a one-line usage error (exit code 2), not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, ActionError) as err:
            raise click.UsageError(str(err), ctx) from None


_env_option = click.option("--env", "env_id", default=None, help=f"environment id (default {DEFAULT_ENV})")


_config_file_option = click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), default=None, help="YAML file of config overrides"
)
_scenario_option = click.option(
    "--scenario",
    type=click.Path(dir_okay=False),
    default=None,
    expose_value=False,
    is_eager=True,
    callback=_read_scenario,
    help="a scenario file (stations, feeder, roads, demand, tariffs; see docs/scenarios.md); --config and --set "
    "apply on top",
)


def _config_option(fn: Any) -> Any:
    """``--scenario PATH`` and ``--config FILE``: every command that takes one takes both."""
    return _scenario_option(_config_file_option(fn))


_set_option = click.option(
    "--set", "assignments", multiple=True, metavar="KEY=VALUE", help="override one config key (repeatable)"
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="evprice")
def main() -> None:
    """Price public EV charging stations with reinforcement learning."""


def _run_progress(quiet: bool) -> Progress:
    """A transient progress bar on stderr (hidden when quiet or when stderr is not a terminal)."""
    err = Console(stderr=True)
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal,
    )


# -- printing ---------------------------------------------------------------------------
def _console() -> Console:
    """Stdout; 120 columns wide when it is not a terminal (a pipe or a file), not rich's 80."""
    out = Console()
    return out if out.is_terminal else Console(width=120)


def _interval(ci: list[float] | None, fmt: str) -> str:
    return "" if ci is None else " ± " + format((ci[1] - ci[0]) / 2, fmt)


def _checkpoint_policy(path: str, env_id: str | None, assignments: tuple[str, ...]):
    """``(factory, env_id, assignments)`` for a trained checkpoint: its env with its overrides
    (then the user's ``--set``), and a factory that checks the observation layout matches."""
    from evprice.learn import CheckpointError
    from evprice.learn.trained import load_trained

    try:
        trained_env, trained_overrides, factory = load_trained(path)
    except CheckpointError as err:
        raise ConfigError(str(err)) from None
    if getattr(factory, "note", None):
        click.echo(f"note: {factory.note}", err=True)
    if env_id is not None and env_id != trained_env:
        raise ConfigError(f"--env {env_id!r} does not match the checkpoint's environment {trained_env!r}")
    kept = tuple(f"{k}={json.dumps(v)}" for k, v in trained_overrides.items()) + tuple(assignments)
    return factory, trained_env, kept
