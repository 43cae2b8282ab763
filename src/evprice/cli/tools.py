"""``evprice grid powerflow``, ``envs``, ``config``, ``replay`` and ``experiment``."""

from __future__ import annotations

import json
import time
from typing import Any

import click
import yaml

from evprice.cli.base import (
    _checkpoint_policy,
    _Command,
    _config_option,
    _console,
    _env_option,
    _overrides_given,
    _resolve,
    _run_progress,
    _scenario,
    _set_option,
    main,
)
from evprice.core.config import ConfigError
from evprice.core.declared import describe_fields, sections_of
from evprice.core.progress import duration_text
from evprice.envs.registry import registered_ids, spec
from evprice.grid.feeders import FEEDERS, make_feeder
from evprice.grid.powerflow import SOLVERS, make_solver, parse_added_load, powerflow_summary
from evprice.policies.baselines import POLICIES


@main.group()
def grid() -> None:
    """Distribution feeders and power flow (buses and lines are 0-based pandapower indices)."""


@grid.command("powerflow", cls=_Command)
@click.option(
    "--feeder",
    default="case33bw",
    show_default=True,
    help=f"{', '.join(FEEDERS)}, or the path of a pandapower .json or MATPOWER .m file",
)
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
    """Solve one power flow of a feeder at its published loads (plus any --add-load); buses and
    lines by their labels (a file's own)."""
    try:
        net = make_feeder(feeder)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    p_mw, q_mvar = net.load_p_mw.copy(), net.load_q_mvar.copy()
    for text in add_loads:
        bus, kw, kvar = parse_added_load(text, net)
        p_mw[bus] += kw / 1e3
        q_mvar[bus] += kvar / 1e3
    try:
        report = powerflow_summary(make_solver(solver, net).solve(p_mw, q_mvar))
    except ImportError as err:  # the pandapower solver without pandapower installed
        raise ConfigError(str(err)) from None
    if report["converged"]:  # indices to the feeder's labels
        report["vmin_bus"], report["vmax_bus"] = (int(net.bus_labels[report[k]]) for k in ("vmin_bus", "vmax_bus"))
        line = report["max_line_loading_line"]
        report["max_line_loading_line"] = line if net.line_labels[line] == f"line {line}" else net.line_labels[line]
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
        f"(bus {report['vmax_bus']}); most loaded {_line_text(report['max_line_loading_line'])} "
        f"at {report['max_line_loading']:.1%} of its rating"
    )


def _line_text(line: int | str) -> str:
    """``line 12`` for a built-in's index, the element (``trafo 0``) for a file's."""
    return f"line {line}" if isinstance(line, int) else line


@main.command()
def envs() -> None:
    """List the registered environments."""
    for env_id in registered_ids():
        click.echo(f"{env_id}\t{spec(env_id).description}")


@main.command(cls=_Command)
@_env_option
@_config_option
@_set_option
@click.option("--nested", is_flag=True, help="group the keys by section (market, arrivals, drivers, costs, ...)")
def config(env_id, config_file, assignments, nested) -> None:
    """Print the resolved configuration as a YAML file, each key with its unit and meaning.

    The output reads back: ``evprice config > cfg.yaml; evprice rollout --config cfg.yaml``.
    """
    env, overrides = _resolve(env_id, config_file, assignments)
    s = spec(env)
    cfg = s.make_config(overrides)
    click.echo(config_yaml(env, cfg, s.config_cls, nested=nested))


def config_yaml(env_id: str, cfg: Any, config_cls: type, nested: bool = False) -> str:
    """``cfg`` as a YAML mapping, one ``key: value`` line per field under a comment with its
    meaning and unit (a field the configuration does not use is marked with the setting that
    makes it unused); ``yaml.safe_load`` reads it back. ``nested``: each sectioned field under
    its section's key (fields without a section first), which reads back the same."""
    values = cfg.to_dict()
    unused = cfg.unused_here()
    sections = sections_of(config_cls) if nested else {}
    lines = [
        "# the environment and every key of its configuration: pass this file back with --config",
        f"env: {env_id}",
    ]
    rows = describe_fields(config_cls)
    groups: dict[str | None, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(sections.get(row["name"]), []).append(row)
    for section in sorted(groups, key=lambda g: g is not None):  # the flat group first, then in declared order
        indent = ""
        if section is not None:
            lines.append(f"{section}:")
            indent = "  "
        for row in groups[section]:
            why = f" (no effect with {unused[row['name']]})" if row["name"] in unused else ""
            lines.append(f"{indent}# {row['doc']} [{row['unit']}]{why}")
            # a one-key flow mapping "{key: value}" without its braces is a block-mapping line
            flow = yaml.safe_dump({row["name"]: values[row["name"]]}, default_flow_style=True, width=10_000).strip()
            lines.append(indent + flow[1:-1])
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
    help="the charging-market environment of coordination, observability and capacity (default PublicCharging-v0; "
    "--scenario replaces it with the scenario's market), or the feeder of safety (default CoupledNetworkPeak-v0)",
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
    scenario = _scenario()
    overrides, file_env = _overrides_given(config_file, assignments, scenario_layer=False)  # the arms apply it
    settings = ExperimentSettings(
        scenario=None if scenario is None else scenario.path,
        seeds=seeds,
        steps=steps,
        episodes=episodes,
        overrides=overrides,
        env=env_id or (file_env if scenario is None else None),  # a scenario's own env comes with it
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
