"""``evprice train mappo|ippo|ccem|rllib``: the trainers, their progress and their seed results."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evprice.cli.base import (
    DEFAULT_ENV,
    _Command,
    _config_option,
    _console,
    _env_option,
    _resolve,
    _set_option,
    main,
)
from evprice.core.config import ConfigError
from evprice.core.overrides import parse_assignment
from evprice.core.progress import LogProgress

LAG_DEFAULT_ENV = "CoupledNetworkPeak-v0"
"""The Lagrangian trainers' default: a run needs a cost, and there the prices decide it."""


@main.group()
def train() -> None:
    """Train pricing agents (MAPPO / IPPO in-house; RLlib for more than one machine)."""


def _ppo_help(algo: str) -> str:
    critic = "the global state" if algo.startswith("mappo") else "each station's own observation"
    if not algo.endswith("-lag"):
        return f"Train the stations with {algo.upper()} (critic on {critic})."
    return (
        f"Train the stations with {algo.upper().replace('-LAG', '-Lagrangian')}: maximise the reward while the "
        f"expected episode cost stays within --cost-limit (a cost critic and a Lagrange multiplier per constraint; "
        f"critics on {critic})."
    )


def _cost_limit_option(algo: str) -> Callable:
    """``--cost-limit L`` on the Lagrangian commands; hidden on the others, which refuse it
    with a message naming the Lagrangian command."""
    if not algo.endswith("-lag"):
        return click.option("--cost-limit", "cost_limit", type=float, hidden=True, default=None)
    return click.option(
        "--cost-limit",
        "cost_limit",
        type=float,
        default=None,
        help="permitted expected cost of an episode, every constraint (default: the PPO config's 0.3; "
        "--ppo cost_limit=[a,b] gives one per --ppo cost_terms entry)",
    )


def _ppo_command(algo: str) -> Callable:
    lagrangian = algo.endswith("-lag")
    env_option = (
        click.option("--env", "env_id", default=None, help=f"environment id (default {LAG_DEFAULT_ENV})")
        if lagrangian
        else _env_option
    )

    @train.command(algo, cls=_Command, help=_ppo_help(algo))
    @env_option
    @_cost_limit_option(algo)
    @click.option("--steps", type=click.IntRange(min=1), default=None, help="env-steps (default: the PPO config's)")
    @click.option("--seed", type=click.IntRange(min=0), default=None, help="seed (default: the PPO config's, 0)")
    @click.option(
        "--seeds",
        "n_seeds",
        type=click.IntRange(min=1),
        default=None,
        help="train K independent seeds in one batched run: --seed, --seed + 1, ... (folders RUN/seed_<s>)",
    )
    @click.option("--seed-list", default=None, metavar="S1,S2,...", help="the seeds to train in one batched run")
    @click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, help="run folder")
    @_config_option
    @_set_option
    @click.option("--ppo", "ppo_assignments", multiple=True, metavar="KEY=VALUE", help="a PPO setting (repeatable)")
    @click.option("--resume", type=click.Path(), default=None, help="continue from a checkpoint or run folder")
    @click.option("--quiet", is_flag=True, help="no progress bar")
    def command(
        env_id,
        cost_limit,
        steps,
        seed,
        n_seeds,
        seed_list,
        out_dir,
        config_file,
        assignments,
        ppo_assignments,
        resume,
        quiet,
    ) -> None:
        from evprice.learn import CheckpointError, PPOConfig, load_checkpoint
        from evprice.learn import train as run_training
        from evprice.learn.checkpoint import seed_folders
        from evprice.learn.trainer import resume_config, run_folder

        settings: dict[str, Any] = {"algo": algo}
        for text in ppo_assignments:
            key, value = parse_assignment(text)
            settings[key] = value
        if steps is not None:
            settings["total_steps"] = steps
        if cost_limit is not None:
            if not lagrangian:
                raise ConfigError(
                    f"--cost-limit is for the Lagrangian trainers: use 'evprice train {algo}-lag --cost-limit ...'"
                )
            settings["cost_limit"] = cost_limit
        if seed is not None:
            settings["seed"] = seed
        seeds = _seeds_option(seed, n_seeds, seed_list)
        if resume is None:
            default = LAG_DEFAULT_ENV if lagrangian else DEFAULT_ENV
            env, overrides = _resolve(env_id, config_file, assignments, default)
            cfg = PPOConfig.from_overrides(settings)
            if seeds is None:
                out = out_dir or f"runs/{algo}_{env}_seed{cfg.seed}"
            else:
                out = out_dir or f"runs/{algo}_{env}_seeds{'-'.join(str(s) for s in seeds)}"
        else:  # the checkpoint's environment and settings, changed only by --steps, --seed and --ppo
            if env_id or config_file or assignments:
                raise ConfigError("--resume keeps the checkpoint's environment: drop --env, --config and --set")
            if seeds is not None or seed is not None and seed_folders(resume):
                raise ConfigError("--resume keeps the run's seeds: drop --seed, --seeds and --seed-list")
            folders = seed_folders(resume)
            try:
                saved = load_checkpoint(next(iter(folders.values())) if folders else resume)
            except CheckpointError as err:
                raise ConfigError(str(err)) from None
            env, overrides = saved["env_id"], saved["overrides"]
            cfg = resume_config(saved["config"], settings)
            out = out_dir or (str(resume) if folders else str(run_folder(resume)))
        label = f"{algo} on {env}" + ("" if seeds is None else f", {len(seeds)} seeds")
        result = _train_with_progress(
            lambda on_update: run_training(
                env, cfg, seeds=seeds, overrides=overrides, out_dir=out, resume=resume, on_update=on_update
            ),
            cfg.total_steps,
            label,
            quiet,
            CheckpointError,
        )
        if isinstance(result, list):
            _print_seed_results(result)
            click.echo(f"run folder: {out} (seed_<s>/: checkpoints/last.pt, metrics.csv, config.yaml, tb/)")
        else:
            click.echo(f"run folder: {out} (checkpoints/last.pt, metrics.csv, config.yaml, tb/)")

    return command


def _seeds_option(seed: int | None, n_seeds: int | None, seed_list: str | None) -> list[int] | None:
    """The seeds of a batched run: ``--seeds K`` from ``--seed`` (default 0) on, or ``--seed-list``."""
    if n_seeds is not None and seed_list is not None:
        raise ConfigError("give one of --seeds K and --seed-list S1,S2,...")
    if n_seeds is not None:
        first = 0 if seed is None else seed
        return list(range(first, first + n_seeds))
    if seed_list is None:
        return None
    if seed is not None:
        raise ConfigError("--seed-list names every seed: drop --seed")
    try:
        seeds = [int(part) for part in seed_list.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--seed-list {seed_list!r} is invalid: expected non-negative integers, e.g. 0,3,7") from None
    if not seeds or any(x < 0 for x in seeds):
        raise ConfigError(f"--seed-list {seed_list!r} is invalid: expected non-negative integers, e.g. 0,3,7")
    return seeds


def _print_seed_results(rows: list[dict[str, Any]]) -> None:
    """The last evaluation of each seed and the mean over seeds with its 95% interval."""
    from evprice.analysis.stats import mean_ci

    table = Table(title="final evaluation by seed (deterministic policy)")
    costs = [k for k in rows[0] if k.startswith("eval_cost_") and rows[0][k] is not None]
    keys = [k for k in ("eval_return", "eval_profit", "eval_delta", *costs) if rows[0].get(k) is not None]
    table.add_column("seed", justify="right")
    for k in keys:
        table.add_column(k.removeprefix("eval_"), justify="right")
    for r in rows:
        table.add_row(str(r["seed"]), *(f"{r[k]:.4g}" for k in keys))
    cells = []
    for k in keys:
        mean, ci = mean_ci([r[k] for r in rows])
        cells.append(f"{mean:.4g}" + ("" if ci is None else f" [{ci[0]:.4g}, {ci[1]:.4g}]"))
    table.add_row("mean [95% CI]", *cells)
    _console().print(table)


def _training_progress(quiet: bool) -> Progress | LogProgress:
    """A progress bar on stderr with a status field (steps done of the total); whole lines
    and a summary line when stderr is not a terminal (a log file)."""
    if not Console(stderr=True).is_terminal:
        return LogProgress(quiet)
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=quiet,
    )


def _train_with_progress(run: Callable, total: int, title: str, quiet: bool, errors: type) -> dict[str, Any]:
    fmt = lambda x, spec: "-" if x is None else format(x, spec)  # noqa: E731
    with _training_progress(quiet) as progress:
        task = progress.add_task(title, total=total, status="")
        seen: dict[str, Any] = {"episodic_return": None, "profit": None}

        def on_update(row: dict[str, Any]) -> None:
            seen.update({k: row[k] for k in seen if row[k] is not None})  # the latest finished episodes
            status = (
                f"return {fmt(seen['episodic_return'], '.3f')}  profit {fmt(seen['profit'], ',.1f')}  "
                f"{row['steps_per_s']:,.0f} steps/s"
            )
            for key in (k for k in row if k.startswith("lambda_")):
                term = key.removeprefix("lambda_")
                cost = row.get(f"episode_cost_{term}")
                status += f"  {term} cost {fmt(cost, '.2f')} lambda {row[key]:.2f}"
            if row["eval_return"] is not None:
                status += f"  eval {row['eval_return']:.3f}" + (
                    f" (Delta {row['eval_delta']:.3f})" if row["eval_delta"] is not None else ""
                )
            progress.update(task, completed=min(row["env_steps"], total), status=status)

        try:
            return run(on_update)
        except errors as e:
            raise ConfigError(str(e)) from None


_ppo_command("mappo")


_ppo_command("ippo")


_ppo_command("mappo-lag")


_ppo_command("ippo-lag")


@train.command("ccem", cls=_Command)
@click.option("--env", "env_id", default=None, help="environment id (default CoupledNetworkPeak-v0)")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="pricing decisions (default 600)")
@click.option("--cost-limit", type=click.FloatRange(min=0.0), default=None, help="permitted cost per episode")
@click.option("--unconstrained", is_flag=True, help="plan without the constraint (unconstrained CEM)")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="seed (default 0)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, help="run folder")
@_config_option
@_set_option
@click.option("--plan", "plan_assignments", multiple=True, metavar="KEY=VALUE", help="a planner setting (repeatable)")
@click.option("--model", "model_assignments", multiple=True, metavar="KEY=VALUE", help="an ensemble setting")
@click.option("--resume", type=click.Path(), default=None, help="continue from a run folder or checkpoint")
@click.option("--quiet", is_flag=True, help="no progress bar")
def train_ccem_cmd(
    env_id,
    steps,
    cost_limit,
    unconstrained,
    seed,
    out_dir,
    config_file,
    assignments,
    plan_assignments,
    model_assignments,
    resume,
    quiet,
) -> None:
    """Safe model-based pricing: probabilistic ensemble + constrained CEM.

    The method of document 2, the project "Dynamic Price Incentive for EV Decarbonization
    Management in Distribution Network".
    """
    from evprice.learn import CheckpointError
    from evprice.learn.safe import SafeRLConfig, checkpoints_written, train_ccem

    env, overrides = _resolve(env_id, config_file, assignments, default="CoupledNetworkPeak-v0")
    settings: dict[str, Any] = {
        "planner": dict(parse_assignment(t) for t in plan_assignments),
        "model": dict(parse_assignment(t) for t in model_assignments),
    }
    for key, value in (("total_steps", steps), ("cost_limit", cost_limit), ("seed", seed)):
        if value is not None:
            settings[key] = value
    if unconstrained:
        settings["constrained"] = False
    cfg = SafeRLConfig.from_overrides(settings)
    out = out_dir or (resume if resume else f"runs/ccem_{env}_seed{cfg.seed}")
    with _training_progress(quiet) as progress:
        task = progress.add_task(f"ccem on {env}", total=cfg.total_steps, status="")

        def on_episode(row: dict[str, Any]) -> None:
            plan = "-" if row["plan_time_s"] is None else f"{row['plan_time_s']:.2f} s/plan"
            status = (
                f"reward {row['episode_reward']:.3f}  cost {row['episode_cost']:.3f}  kappa {row['kappa']:.3f}  {plan}"
            )
            progress.update(task, completed=row["env_steps"], status=status)

        try:
            train_ccem(env, cfg, overrides=overrides, out_dir=out, resume=resume, on_episode=on_episode)
        except CheckpointError as err:
            raise ConfigError(str(err)) from None
    written = checkpoints_written(out)
    missing = (
        ""
        if "checkpoints/best.pt" in written
        else "; no best.pt: no window of planned episodes stayed within the cost limit, evaluate uses last.pt"
    )
    click.echo(f"run folder: {out} ({', '.join([*written, 'metrics.csv', 'config.yaml'])}){missing}")


@train.command("rllib", cls=_Command)
@_env_option
@click.option("--steps", type=click.IntRange(min=1), default=100_000, show_default=True, help="env-steps to sample")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--num-env-runners", type=click.IntRange(min=0), default=0, show_default=True, help="remote samplers")
@click.option("--envs-per-runner", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--address", default=None, help="a Ray cluster (ray://head:10001, auto); default: a local Ray")
@click.option("--independent", is_flag=True, help="one policy per station (default: one shared policy)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, help="where the checkpoint goes")
@_config_option
@_set_option
@click.option("--quiet", is_flag=True, help="no progress bar")
def train_rllib_cmd(
    env_id,
    steps,
    seed,
    num_env_runners,
    envs_per_runner,
    address,
    independent,
    out_dir,
    config_file,
    assignments,
    quiet,
) -> None:
    """Multi-agent PPO with Ray RLlib (pip install "evprice[distributed]")."""
    try:
        from evprice.learn.rllib_train import train_rllib
    except ImportError as err:  # pragma: no cover  (the extra is missing)
        raise ConfigError(f"{err}: install the extra with pip install 'evprice[distributed]'") from None
    env, overrides = _resolve(env_id, config_file, assignments)
    with _training_progress(quiet) as progress:
        task = progress.add_task(f"rllib on {env}", total=steps, status="")

        def on_iteration(row: dict[str, Any]) -> None:
            ret = row["episode_return_mean"]
            status = f"return {'-' if ret is None else format(ret, '.3f')}  {row['iteration_time_s']:.1f} s/iteration"
            progress.update(task, completed=min(row["env_steps"], steps), status=status)

        summary = train_rllib(
            env,
            steps=steps,
            seed=seed,
            num_env_runners=num_env_runners,
            num_envs_per_env_runner=envs_per_runner,
            address=address,
            out_dir=out_dir,
            overrides=overrides,
            shared_policy=not independent,
            on_iteration=on_iteration,
        )
    click.echo(json.dumps(summary))
