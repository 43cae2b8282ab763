"""Research experiments: ``evprice experiment NAME``: train, evaluate over seeds, write a report.

An experiment is a function ``run(settings, out_dir) -> ExperimentResult`` registered in
:data:`EXPERIMENTS` (the studies themselves are in :mod:`evprice.analysis.studies`).
:func:`run_experiment` calls it and writes into ``out_dir``:

* ``results.csv`` (and ``paths.csv.gz``, ``curves.csv.gz``): the raw numbers in long form, one
  number per row (:mod:`evprice.analysis.results`; :func:`~evprice.analysis.results.load_results`
  reads them into pandas);
* ``results.json``: the settings, the summary (means with 95% confidence intervals over
  seeds) and the rows whole;
* ``report.md``: the question, the settings, the summary tables and the figures
  (``figures/*.png``), readable as a file or rendered by any Markdown viewer;
* ``runs/``: the training run folders (checkpoints, metrics.csv, TensorBoard), so that any
  trained policy can be evaluated again or replayed (``evprice replay``).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evprice.analysis.results import write_tables
from evprice.core.config import ConfigError
from evprice.core.overrides import merge_overrides


@dataclass(frozen=True)
class ExperimentSettings:
    """What the user chose for one run of an experiment.

    ``seeds``: independent training seeds (or sessions) per arm; ``steps``: training length
    per run in env-steps (None = the experiment's default); ``episodes``: evaluation
    episodes per trained policy; ``overrides``: environment config keys applied to every
    environment of the experiment (``--set``); ``env``: the charging-market environment of
    an experiment that has one (:attr:`Experiment.market_env`), replacing its default (for
    example ``GridCharging-v0``, whose reports then plot voltage and line loading);
    ``workers``: arms trained in parallel local processes; ``address``: a Ray cluster
    (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``) whose tasks train the arms instead
    (:mod:`evprice.analysis.parallel`). An arm's seeds always train together in one batched
    run on one torch thread (float sums differ with the thread count), so the results do not
    depend on ``workers`` or ``address``: ``--workers`` = the cores uses them all.
    ``scenario``: a scenario file (:mod:`evprice.envs.scenario`) that replaces the
    charging market of an experiment that has one: its arms train on the scenario's
    environment with the scenario's overrides under ``overrides``, and the experiment's
    other environments (``LogitBertrand-v0``) are left out, since the scenario's keys are
    not theirs. The arms read the scenario's files (feeder, roads, tariffs) by absolute path:
    on a Ray cluster every node needs them at the same path.
    ``reuse``: re-render the report from the rows of the finished run in ``out_dir``
    (``results.json``) without training again, for a change to the report's code; the
    report keeps that run's wall time and machine. ``on_progress``: called with one line of
    text when the training starts and as each arm finishes (elapsed, time left); not part
    of the run's settings.
    """

    seeds: int = 8
    steps: int | None = None
    episodes: int = 16
    overrides: Mapping[str, Any] = field(default_factory=dict)
    env: str | None = None
    workers: int = 1
    address: str | None = None
    reuse: bool = False
    scenario: str | None = None
    on_progress: Callable[[str], None] | None = field(default=None, compare=False, repr=False)
    _scenario: Any = field(default=None, init=False, compare=False, repr=False)  # the file, read once

    def __post_init__(self) -> None:
        for name, low in (("seeds", 1), ("episodes", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name}={value!r} is invalid: expected an integer >= {low}")
        steps = self.steps
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise ConfigError(f"steps={self.steps!r} is invalid: expected an integer >= 1 (env-steps per run)")
        from evprice.analysis.parallel import check_parallel

        check_parallel(self.workers, self.address)
        if self.env is not None:
            from evprice.envs.registry import registered_ids

            if self.env not in registered_ids():
                raise ConfigError(f"env={self.env!r} is invalid: expected one of {', '.join(registered_ids())}")
        if isinstance(self.scenario, Path):
            object.__setattr__(self, "scenario", str(self.scenario))
        if self.scenario is not None and not isinstance(self.scenario, str):
            raise ConfigError(f"scenario={self.scenario!r} is invalid: expected the path of a scenario file")
        if self.scenario is not None:
            loaded = self.loaded_scenario()  # a bad file stops here, naming its line
            if self.env is not None and self.env != loaded.env_id:
                raise ConfigError(f"env={self.env!r} is invalid with scenario: the scenario builds on {loaded.env_id}")
            loaded.make_config(self.overrides)  # and a bad --set on top of it

    def loaded_scenario(self) -> Any:
        """The :class:`~evprice.envs.scenario.Scenario` of ``scenario`` (None without one)."""
        if self.scenario is None:
            return None
        if self._scenario is None:
            from evprice.envs.scenario import load_scenario

            object.__setattr__(self, "_scenario", load_scenario(self.scenario))
        return self._scenario

    def arm_overrides(self, arm: Mapping[str, Any]) -> dict[str, Any]:
        """What one arm's environment is made with: the scenario's overrides (if any), then
        ``overrides`` (``--set``), then the arm's own (``arm``), later layers winning."""
        loaded = self.loaded_scenario()
        base = {} if loaded is None else dict(loaded.overrides)
        return merge_overrides(base, self.overrides, arm)


@dataclass
class ExperimentResult:
    """What an experiment produced: raw ``rows`` (one dict per arm and seed), a ``summary``
    (JSON-able), Markdown ``tables`` and ``figures`` (caption, PNG path) for the report, and
    ``notes`` (findings and caveats, one paragraph each)."""

    question: str
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    tables: list[tuple[str, str]] = field(default_factory=list)
    figures: list[tuple[str, Path]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    settings_line: str | None = None  # replaces the report's default line on seeds, steps and episodes


@dataclass(frozen=True)
class Experiment:
    """A registered experiment. ``market_env``: the charging-market environment that
    ``settings.env`` replaces, or None for an experiment whose environments are fixed."""

    name: str
    description: str
    default_steps: int | None
    run: Callable[[ExperimentSettings, Path], ExperimentResult]
    market_env: str | None = None

    def market(self, settings: ExperimentSettings) -> str:
        """The charging-market environment of this run: ``settings.env``, the scenario's, or
        the experiment's default."""
        if self.market_env is None:
            what = "scenario" if settings.scenario is not None else "env"
            raise ConfigError(f"experiment {self.name!r} has fixed environments: it does not take {what}")
        if settings.scenario is not None:
            return settings.loaded_scenario().env_id
        return settings.env or self.market_env

    def market_label(self, settings: ExperimentSettings) -> str:
        """How the report names the charging market: the scenario's name, else its env id."""
        return settings.loaded_scenario().name if settings.scenario is not None else self.market(settings)


EXPERIMENTS: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"experiment {experiment.name!r} is registered twice")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def get_experiment(name: str) -> Experiment:
    import evprice.analysis.studies  # noqa: F401  (registers the experiments)

    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise ConfigError(
            f"experiment {name!r} is invalid: expected one of {', '.join(repr(n) for n in EXPERIMENTS)}"
        ) from None


def run_experiment(name: str, settings: ExperimentSettings, out_dir: str | Path) -> Path:
    """Run experiment ``name`` into ``out_dir``; returns the path of ``report.md``."""
    experiment = get_experiment(name)
    if settings.env is not None or settings.scenario is not None:
        experiment.market(settings)  # an experiment with fixed environments refuses env, before any work
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    trained = None
    if settings.reuse:
        if experiment.name == "collusion-qlearning":
            raise ConfigError("reuse: collusion-qlearning's sessions are not saved row by row; run it again")
        if not (out / "results.json").is_file():
            raise ConfigError(f"reuse: {out / 'results.json'} not found: reuse re-renders a finished run in --out")
        trained = json.loads((out / "results.json").read_text())
    start = time.perf_counter()
    result = experiment.run(settings, out)
    wall_s = time.perf_counter() - start if trained is None else trained["wall_s"]
    meta = {
        "experiment": name,
        "settings": {
            "seeds": settings.seeds,
            "steps": settings.steps if settings.steps is not None else experiment.default_steps,
            "episodes": settings.episodes,
            "overrides": dict(settings.overrides),
            "env": settings.env,
            "scenario": settings.scenario,
            "workers": settings.workers,
            "address": settings.address,
        },
        "wall_s": wall_s,
        "machine": machine_line() if trained is None else trained["machine"],
        "command": command_line(name, settings, out),
    }
    write_tables(out, result.rows)
    payload = {**meta, "summary": result.summary, "rows": result.rows}
    (out / "results.json").write_text(results_json(payload))
    report = out / "report.md"
    report.write_text(render_report(experiment, result, meta, out))
    return report


def machine_line() -> str:
    """The machine a report was measured on: processor, cores, Python and torch versions."""
    from importlib.metadata import PackageNotFoundError, version

    line = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    try:  # the installed version, without importing torch outside evprice.learn
        line += f", torch {version('torch')}"
    except PackageNotFoundError:  # pragma: no cover  (experiments without training need no torch)
        pass
    return line


def command_line(name: str, settings: ExperimentSettings, out: Path) -> str:
    """The ``evprice experiment`` command that regenerates a report with these settings."""
    parts = ["evprice", "experiment", name, "--seeds", str(settings.seeds)]
    if settings.steps is not None:
        parts += ["--steps", str(settings.steps)]
    parts += ["--episodes", str(settings.episodes)]
    if settings.env is not None:
        parts += ["--env", settings.env]
    if settings.scenario is not None:
        parts += ["--scenario", settings.scenario]
    for key, value in settings.overrides.items():
        parts += ["--set", f"{key}={json.dumps(value)}"]
    if settings.workers != 1:
        parts += ["--workers", str(settings.workers)]
    if settings.address is not None:
        parts += ["--address", settings.address]
    parts += ["--out", str(out)]
    return shlex.join(parts)


def render_report(experiment: Experiment, result: ExperimentResult, meta: Mapping[str, Any], out: Path) -> str:
    """The Markdown report (figures linked relative to ``out``)."""
    s = meta["settings"]
    settings_line = result.settings_line or (
        f"Settings: {s['seeds']} seed(s) per arm, {s['steps'] if s['steps'] is not None else '-'} training "
        f"env-steps per run, {s['episodes']} evaluation episodes per trained policy"
    )
    lines = [
        f"# Experiment `{experiment.name}`",
        "",
        experiment.description,
        "",
        f"**Question.** {result.question}",
        "",
        f"{settings_line}; overrides `{json.dumps(s['overrides'])}`"
        + (f"; charging-market environment `{s['env']}`" if s.get("env") else "")
        + (f"; scenario `{s['scenario']}`" if s.get("scenario") else "")
        + f"; {meta['wall_s']:.0f} s in all on "
        f"{meta['machine']}"
        + (f", {s['workers']} parallel workers" if s.get("workers", 1) != 1 else "")
        + (f", Ray cluster `{s['address']}`" if s.get("address") else "")
        + ". Raw numbers: `results.csv`, `results.json`.",
        "",
        "Regenerate with:",
        "",
        "```bash",
        meta.get("command", ""),
        "```",
        "",
    ]
    for title, table in result.tables:
        lines += [f"## {title}", "", table, ""]
    if result.figures:
        lines += ["## Figures", ""]
        for caption, path in result.figures:
            rel = Path(path).resolve().relative_to(Path(out).resolve())  # links work wherever out is
            lines += [f"![{caption}]({rel.as_posix()})", "", f"*{caption}*", ""]
    if result.notes:
        lines += ["## What it says", ""]
        lines += [f"* {note}" for note in result.notes]
        lines.append("")
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table; floats printed with 3 decimals, None as a dash."""

    def cell(x: Any) -> str:
        if x is None:
            return "-"
        if isinstance(x, float):
            return f"{x:.3f}"
        return str(x)

    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(x) for x in row) + " |" for row in rows]
    return "\n".join(out)


def results_json(payload: Mapping[str, Any]) -> str:
    """``payload`` as JSON text: indented, except that each of its ``rows`` is one line (a row
    holds long per-period lists, which one number per line would spread over thousands)."""
    rest = {k: v for k, v in payload.items() if k != "rows"}
    if "rows" not in payload:
        return json.dumps(rest, indent=2, default=_json_default) + "\n"
    inner = json.dumps(rest, indent=2, default=_json_default)[2:-2] if rest else ""  # without "{\n" and "\n}"
    rows = [f"    {json.dumps(r, default=_json_default)}" for r in payload["rows"]]
    listed = "[\n" + ",\n".join(rows) + "\n  ]" if rows else "[]"
    return "{\n" + inner + (",\n" if inner else "") + f'  "rows": {listed}\n}}\n'


def _json_default(x: Any) -> Any:
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON-serialisable: {type(x).__name__}")
