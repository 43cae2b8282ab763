"""An experiment's raw numbers as tidy tables: one number per row, numeric columns numeric.

``results.json`` keeps each run's row whole (per-station lists, the recorded episode path,
the learning curve). The tables written beside it split those rows in long form, so a
spreadsheet or pandas reads numbers as numbers:

* ``results.csv``: one row per run, station and metric. The run's identifiers (``arm``,
  ``env``, ``seed`` or ``session``, the arm's settings, ``run_dir``) come first, then
  ``station`` (``station_1`` ...; empty for a market-wide metric), ``metric`` and ``value``
  (a number; empty where undefined, e.g. Delta of a market without a static benchmark; a
  metric that is a mapping gives one row per entry, ``grid_costs.carbon``, and a list indexed
  by a day or a period one row per item, ``by_period[3]``);
* ``paths.csv.gz``: the recorded evaluation episode of each run: identifiers, ``period``,
  ``hour``, ``station``, ``quantity`` (``price``, ``utilization``, ``blocked``, on a grid
  ``vm_min_pu`` ...) and ``value``;
* ``curves.csv.gz``: each run's learning curve: identifiers, ``metric``, ``env_steps``,
  ``value``.

:func:`load_results` reads any of them into a pandas DataFrame.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

METRICS = frozenset(
    {
        # trained arms (evprice.analysis.studies.train_arm)
        "mean_price",
        "profit",
        "blocked",
        "admitted",
        "delta",
        "violating_periods",
        "grid_costs",  # a mapping of the cost terms: one row per term, metric "grid_costs.voltage" ...
        "consumer_surplus",
        "social_welfare",
        # what a coordination protocol's signals carry (evprice.analysis.messages)
        "signal_r2",
        "signal_r2_price",
        "signal_r2_gain",
        "signal_std",
        "signal_gap",
        # Q-learning sessions (evprice.analysis.qlearning)
        "converged",
        "periods",
        "cycle_length",
        "cycle_prices",
        "cycle_profit",
        # the safety experiment (evprice.analysis.studies.safety)
        "team_reward",
        "terms",  # the grid terms' violating periods per day: metric "terms.voltage" ...
        "train_s",
        "env_steps",
        "plan_time_s",
        "final_kappa",
        "final_lambda",
        "prices",
        "reward_days",
        "violating_days",
        "by_period",
        "hour",
    }
)
"""Row keys that are measured numbers; every other scalar key identifies the run (an
experiment that measures something new adds its key here). A row with none of them is
written as it is, one line, so that nothing it holds is lost."""
INDEXED = frozenset({"reward_days", "violating_days", "by_period", "hour"})
"""List metrics indexed by something other than a station (an evaluation day, a period of the
day): one row each, metric ``by_period[3]``, station empty."""
NESTED = ("path", "curve")
"""Row keys written to their own tables."""
TABLES = {"results": "results.csv", "paths": "paths.csv.gz", "curves": "curves.csv.gz"}


def _identifiers(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in METRICS and k not in NESTED}


def _number(x: Any) -> float | str:
    """A cell: a float, or empty for None (read back as NaN)."""
    return "" if x is None else float(x)


def result_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``results.csv`` rows: one per run, station and metric (see the module docstring)."""
    out = []
    for row in rows:
        ids = _identifiers(row)
        if not METRICS.intersection(row):
            out.append(ids)
            continue
        for key in row:
            if key not in METRICS:
                continue
            value = row[key]
            if isinstance(value, Mapping):
                out += [{**ids, "station": "", "metric": f"{key}.{k}", "value": _number(v)} for k, v in value.items()]
            elif isinstance(value, (list, tuple)) and key in INDEXED:
                out += [
                    {**ids, "station": "", "metric": f"{key}[{i}]", "value": _number(v)} for i, v in enumerate(value)
                ]
            elif isinstance(value, (list, tuple)):
                out += [
                    {**ids, "station": f"station_{i + 1}", "metric": key, "value": _number(v)}
                    for i, v in enumerate(value)
                ]
            else:
                out.append({**ids, "station": "", "metric": key, "value": _number(value)})
    return out


def path_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``paths.csv.gz`` rows: each recorded episode period by period, per station where it applies."""
    out = []
    for row in rows:
        path = row.get("path")
        if not path:
            continue
        ids = _identifiers(row)
        hours = path["hour"]
        for quantity, series in path.items():
            if quantity == "hour" or isinstance(series, Mapping):  # constants (grid limits) stay in results.json
                continue
            for t, value in enumerate(series):
                common = {**ids, "period": t, "hour": hours[t], "quantity": quantity}
                if isinstance(value, (list, tuple)):
                    out += [{**common, "station": f"station_{i + 1}", "value": _number(v)} for i, v in enumerate(value)]
                else:
                    out.append({**common, "station": "", "value": _number(value)})
    return out


def curve_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``curves.csv`` rows: each run's learning curve, one evaluation per row."""
    out = []
    for row in rows:
        curve = row.get("curve")
        if not curve:
            continue
        ids = _identifiers(row)
        for steps, value in zip(curve["env_steps"], curve["values"]):
            out.append({**ids, "metric": curve["metric"], "env_steps": float(steps), "value": _number(value)})
    return out


def _csv_text(rows: list[dict[str, Any]]) -> str:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_tables(out: str | Path, rows: list[dict[str, Any]]) -> list[Path]:
    """Write ``results.csv`` and, where the rows have them, ``paths.csv.gz`` and ``curves.csv.gz``
    into ``out``; returns the files written (a table with no rows is not written, and a stale
    one from an earlier run is removed)."""
    folder = Path(out)
    written = []
    for name, make in (("results", result_rows), ("paths", path_rows), ("curves", curve_rows)):
        target = folder / TABLES[name]
        table = make(rows)
        if not table:
            target.unlink(missing_ok=True)
            continue
        text = _csv_text(table)
        if target.suffix == ".gz":
            target.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))  # mtime 0: the same bytes every time
        else:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def load_results(folder: str | Path, table: str = "results") -> Any:
    """One of an experiment's tables (``"results"``, ``"paths"`` or ``"curves"``) as a pandas
    DataFrame, its ``value`` column float. Needs pandas (``pip install pandas``)."""
    if table not in TABLES:
        raise ValueError(f"table={table!r} is invalid: expected one of {', '.join(repr(t) for t in TABLES)}")
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("load_results needs pandas: pip install pandas") from None
    path = Path(folder) / TABLES[table]
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: expected the folder of an evprice experiment run")
    return pd.read_csv(path, dtype={"station": str}, keep_default_na=False, na_values={"value": [""]}).astype(
        {"value": float}
    )
