"""``evprice``: the command line.

    evprice rollout  [--env ID] [--policy NAME] [--price P] [--markup M] [--episodes N]
                     [--seed S] [--config FILE.yaml] [--set key=value ...] [--json]
    evprice evaluate --env ID --policy NAME [the same options]     (adds 95% CIs and Delta)
    evprice theory   [--env ID] [--config FILE.yaml] [--set key=value ...] [--leader ID]
                     [--json | --markdown]
    evprice envs
    evprice config   [--env ID] [--config FILE.yaml] [--set key=value ...]
    evprice grid powerflow [--feeder case33bw|doc2] [--solver fast|pandapower]
                     [--add-load BUS:KW[:KVAR] ...] [--json]
    evprice train mappo|ippo --env ID [--steps N] [--seed S] [--seeds K | --seed-list 0,3,7]
                     [--out DIR] [--set key=value ...] [--ppo key=value ...] [--resume CHECKPOINT]
    evprice evaluate --checkpoint DIR/checkpoints/last.pt [--episodes N] [--seed S] [--json]
    evprice train rllib --env ID [--steps N] [--num-env-runners K] [--address ray://...] [--independent]
    evprice train ccem [--env CoupledNetworkPeak-v0] [--steps 600] [--cost-limit 0.3] [--unconstrained]
    evprice replay RUN_DIR [--out FILE.gif|.mp4] [--seed S] [--fps N]   (or --policy NAME --env ID)
    evprice experiment NAME [--seeds K] [--steps N] [--episodes E] [--out DIR] [--env ID] [--set key=value ...]
                     [--workers N] [--address auto|HOST:PORT|ray://HOST:PORT] [--reuse]

Overrides come from ``--config`` (a YAML mapping of config keys; it may also name the
``env``), then from each ``--set key=value`` (the value is read as YAML: ``4``,
``[2, 6]``, ``null``). A bad key or value stops the command with a message that names it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import click
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evprice.analysis.reports import benchmark_table
from evprice.analysis.rollouts import evaluate, rollout
from evprice.core.actions import ActionError
from evprice.core.config import ConfigError, describe_fields, load_overrides_file, parse_assignment
from evprice.core.progress import LogProgress, duration_text
from evprice.envs.registry import make_env, registered_ids, spec
from evprice.grid.feeders import FEEDERS, make_feeder
from evprice.grid.powerflow import SOLVERS, make_solver, parse_added_load, powerflow_summary
from evprice.policies.baselines import POLICIES
from evprice.policies.theory import benchmarks

DEFAULT_ENV = "PublicCharging-v0"


def _resolve(
    env_id: str | None, config_file: str | None, assignments: tuple[str, ...], default: str = DEFAULT_ENV
) -> tuple[str, dict[str, Any]]:
    overrides: dict[str, Any] = {}
    file_env = None
    if config_file:
        overrides = load_overrides_file(config_file)
        file_env = overrides.pop("env", None)
    for text in assignments:
        key, value = parse_assignment(text)
        overrides[key] = value
    env = env_id or file_env or default
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="evprice")
def main() -> None:
    """Price public EV charging stations with reinforcement learning."""


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


@main.group()
def train() -> None:
    """Train pricing agents (MAPPO / IPPO in-house; RLlib for more than one machine)."""


def _ppo_command(algo: str) -> Callable:
    critic = "the global state" if algo == "mappo" else "each station's own observation"

    @train.command(algo, cls=_Command, help=f"Train the stations with {algo.upper()} (critic on {critic}).")
    @_env_option
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
        env_id, steps, seed, n_seeds, seed_list, out_dir, config_file, assignments, ppo_assignments, resume, quiet
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
        if seed is not None:
            settings["seed"] = seed
        seeds = _seeds_option(seed, n_seeds, seed_list)
        if resume is None:
            env, overrides = _resolve(env_id, config_file, assignments)
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
    keys = [k for k in ("eval_return", "eval_profit", "eval_delta") if rows[0].get(k) is not None]
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


@main.group()
def grid() -> None:
    """Distribution feeders and power flow (buses and lines are 0-based pandapower indices)."""


@grid.command("powerflow", cls=_Command)
@click.option("--feeder", type=click.Choice(list(FEEDERS)), default="case33bw", show_default=True)
@click.option("--solver", type=click.Choice(list(SOLVERS)), default="fast", show_default=True)
@click.option(
    "--add-load",
    "add_loads",
    multiple=True,
    metavar="BUS:KW[:KVAR]",
    help="extra load at a bus (0-based), in kW and optionally kvar; negative = injection (repeatable)",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def powerflow(feeder, solver, add_loads, as_json) -> None:
    """Solve one power flow of a feeder at its published loads (plus any --add-load)."""
    net = make_feeder(feeder)
    p_mw, q_mvar = net.load_p_mw.copy(), net.load_q_mvar.copy()
    for text in add_loads:
        bus, kw, kvar = parse_added_load(text, net)
        p_mw[bus] += kw / 1e3
        q_mvar[bus] += kvar / 1e3
    try:
        report = powerflow_summary(make_solver(solver, net).solve(p_mw, q_mvar))
    except ImportError as err:  # the pandapower solver without pandapower installed
        raise ConfigError(str(err)) from None
    if as_json:
        click.echo(json.dumps(report))
        return
    out = _console()
    if not report["converged"]:
        out.print(f"{feeder} ({solver}): the power flow did not converge")
        return
    out.print(
        f"{feeder} ({solver}): losses {report['losses_kw']:.2f} kW, external grid {report['p_slack_mw']:.4f} MW; "
        f"voltage {report['vmin_pu']:.4f} p.u. (bus {report['vmin_bus']}) to {report['vmax_pu']:.4f} p.u. "
        f"(bus {report['vmax_bus']}); most loaded line {report['max_line_loading_line']} "
        f"at {report['max_line_loading']:.1%} of its rating"
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
    """Print the resolved configuration as a YAML file, each key with its unit and meaning.

    The output reads back: ``evprice config > cfg.yaml; evprice rollout --config cfg.yaml``.
    """
    env, overrides = _resolve(env_id, config_file, assignments)
    s = spec(env)
    cfg = s.make_config(overrides)
    click.echo(config_yaml(env, cfg, s.config_cls))


def config_yaml(env_id: str, cfg: Any, config_cls: type) -> str:
    """``cfg`` as a YAML mapping, one ``key: value`` line per field under a comment with its
    meaning and unit (fields the driver model ignores marked); ``yaml.safe_load`` reads it back."""
    values = cfg.to_dict()
    ignored = cfg.ignored_fields() if hasattr(cfg, "ignored_fields") else ()
    lines = [
        "# the environment and every key of its configuration: pass this file back with --config",
        f"env: {env_id}",
    ]
    for row in describe_fields(config_cls):
        unused = f" (no effect with driver_cost={cfg.driver_cost!r})" if row["name"] in ignored else ""
        lines.append(f"# {row['doc']} [{row['unit']}]{unused}")
        # a one-key flow mapping "{key: value}" without its braces is a block-mapping line
        flow = yaml.safe_dump({row["name"]: values[row["name"]]}, default_flow_style=True, width=10_000).strip()
        lines.append(flow[1:-1])
    return "\n".join(lines)


@main.command("replay", cls=_Command)
@click.argument("run_dir", required=False, type=click.Path())
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="FILE.gif or FILE.mp4 (MP4 needs ffmpeg); default RUN_DIR/replay.gif, or runs/replays/<env>_<policy>.gif",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="seed of the episode")
@click.option(
    "--fps", type=click.FloatRange(min=0, max=50, min_open=True), default=2.0, show_default=True, help="periods/second"
)
@click.option(
    "--policy",
    type=click.Choice(list(POLICIES)),
    default=None,
    help="a baseline instead of a trained policy (no RUN_DIR; pick the env with --env)",
)
@click.option("--price", type=float, default=None, help="fixed policy: the price (default: middle of the bounds)")
@click.option("--markup", type=float, default=None, help="time_of_use policy: price minus wholesale price")
@_env_option
@_config_option
@_set_option
@click.option("--quiet", is_flag=True, help="no progress bar")
def replay_cmd(run_dir, out_path, seed, fps, policy, price, markup, env_id, config_file, assignments, quiet) -> None:
    """Animate one evaluation episode (a GIF or MP4 frame per pricing period) and print the file written.

    RUN_DIR is a run folder or .pt checkpoint of `evprice train` (its env and config are used);
    or give --policy NAME [--env ID] for a baseline. The episode is the one
    `evprice evaluate --episodes 1 --seed S` plays.
    """
    from pathlib import Path

    from evprice.analysis.replay import DEFAULT_NAME, animation_format, replay_policy, run_folder_of

    if (run_dir is None) == (policy is None):
        raise ConfigError("give exactly one of RUN_DIR (a trained run) and --policy NAME (a baseline)")
    options = {k: v for k, v in (("price", price), ("markup", markup)) if v is not None}
    if run_dir is not None:
        if options:
            raise ConfigError("--price and --markup apply to a baseline (--policy), not to a trained RUN_DIR")
        trained, env_id, assignments = _checkpoint_policy(run_dir, env_id, assignments)
    env, overrides = _resolve(env_id, config_file, assignments)
    if out_path is None:
        # a baseline's replay goes under runs/ (ignored by git), not into the working directory
        out_path = run_folder_of(run_dir) / DEFAULT_NAME if run_dir is not None else f"runs/replays/{env}_{policy}.gif"
    animation_format(out_path)  # a bad suffix fails before the episode is played
    with _run_progress(quiet) as progress:
        task = progress.add_task(f"replay {env}", total=None)
        path = replay_policy(
            env,
            trained if run_dir is not None else policy,
            Path(out_path),
            overrides=overrides,
            seed=seed,
            fps=fps,
            policy_options=options,
            on_period=lambda done, total: progress.update(task, completed=done, total=total),
        )
    click.echo(str(path))


# -- printing ---------------------------------------------------------------------------
def _console() -> Console:
    """Stdout; 120 columns wide when it is not a terminal (a pipe or a file), not rich's 80."""
    out = Console()
    return out if out.is_terminal else Console(width=120)


def _interval(ci: list[float] | None, fmt: str) -> str:
    return "" if ci is None else " ± " + format((ci[1] - ci[0]) / 2, fmt)


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


@main.command("experiment", cls=_Command)
@click.argument("name", required=False)
@click.option("--list", "list_only", is_flag=True, help="list the experiments and stop")
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="seeds per arm, trained together in one batched run (collusion-qlearning: sessions)",
)
@click.option("--steps", type=click.IntRange(min=1), default=None, help="training env-steps per run (default: NAME's)")
@click.option("--episodes", type=click.IntRange(min=1), default=16, show_default=True, help="evaluation episodes")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, help="default runs/experiments/NAME")
@click.option(
    "--env",
    "env_id",
    default=None,
    help="the charging-market environment of coordination, observability and capacity (default PublicCharging-v0)",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="arms trained in parallel processes"
)
@click.option(
    "--address",
    default=None,
    help="train the arms as Ray tasks on this cluster: auto, HOST:PORT or ray://HOST:PORT (needs evprice[distributed])",
)
@click.option(
    "--reuse",
    is_flag=True,
    help="re-render the report from --out's results.json (a finished run) without training again",
)
@_config_option
@_set_option
def experiment_cmd(
    name, list_only, seeds, steps, episodes, out_dir, env_id, workers, address, reuse, config_file, assignments
) -> None:
    """Run a research experiment over seeds; write results.csv, results.json and report.md (with figures)."""
    from evprice.analysis.experiments import EXPERIMENTS, ExperimentSettings, get_experiment, run_experiment

    if list_only or name is None:
        get_experiment("coordination")  # registers the experiments
        for exp in EXPERIMENTS.values():
            click.echo(f"{exp.name:22s} {exp.description}")
        if name is None and not list_only:
            raise ConfigError("give an experiment NAME (or --list)")
        return
    get_experiment(name)
    overrides: dict[str, Any] = load_overrides_file(config_file) if config_file else {}
    file_env = overrides.pop("env", None)
    for text in assignments:
        key, value = parse_assignment(text)
        overrides[key] = value
    settings = ExperimentSettings(
        seeds=seeds,
        steps=steps,
        episodes=episodes,
        overrides=overrides,
        env=env_id or file_env,
        workers=workers,
        address=address,
        reuse=reuse,
        on_progress=lambda line: click.echo(f"{name}: {line}", err=True),
    )
    from evprice.learn.checkpoint import CheckpointError

    start = time.perf_counter()
    try:
        report = run_experiment(name, settings, out_dir or f"runs/experiments/{name}")
    except CheckpointError as err:  # --reuse of a report whose run folders are not there
        raise ConfigError(f"{err} (a report that replays trained policies needs its runs/ folder)") from None
    click.echo(f"{name}: done in {duration_text(time.perf_counter() - start)}; report: {report}")


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
