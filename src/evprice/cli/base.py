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
    env = env_id or file_env or default
    spec(env).make_config(overrides)  # validate now, with a clear message
    return env, overrides


def _overrides_given(config_file: str | None, assignments: tuple[str, ...]) -> tuple[dict[str, Any], str | None]:
    """The config file's overrides (without its ``env``), then each ``--set``, later ones winning
    (:func:`~evprice.core.overrides.merge_overrides`), and the file's ``env`` (None without one)."""
    file_overrides = load_overrides_file(config_file) if config_file else {}
    file_env = file_overrides.pop("env", None)
    layers = [dict([parse_assignment(text)]) for text in assignments]
    return merge_overrides(file_overrides, *layers), file_env


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
