"""A training run's folder: ``config.yaml``, ``metrics.csv`` and TensorBoard events; and the
mean over seeds of a batch of runs' metric rows."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import yaml


class RunLog:
    """Writes a run's settings once and one metrics row per update or episode.

    ``metrics.csv`` has the given ``columns`` (blank where a value is None) and is appended
    to when ``append`` (a resumed run); TensorBoard events go to ``tb/`` when tensorboard is
    installed (the CSV holds the same numbers). ``RunLog(None, ...)`` writes nothing.
    """

    def __init__(self, out: Path | None, run: dict[str, Any], columns: tuple[str, ...], append: bool) -> None:
        self.columns = columns
        self._csv: TextIO | None = None
        self._writer: Any = None
        if out is None:
            return
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(yaml.safe_dump(run, sort_keys=False), encoding="utf-8")
        path = out / "metrics.csv"
        fresh = not (append and path.exists())
        self._csv = path.open("w" if fresh else "a", newline="", encoding="utf-8")
        if fresh:
            csv.writer(self._csv).writerow(columns)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional
            return
        self._writer = SummaryWriter(str(out / "tb"))

    def write(self, row: dict[str, Any], step: int, skip: int = 2) -> None:
        """One row; TensorBoard gets every column after the first ``skip`` (the counters)."""
        if self._csv is not None:
            csv.writer(self._csv).writerow(["" if row[k] is None else row[k] for k in self.columns])
            self._csv.flush()
        if self._writer is not None:
            for k in self.columns[skip:]:
                if row[k] is not None:
                    self._writer.add_scalar(k, float(row[k]), step)

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()
        if self._writer is not None:
            self._writer.close()


def mean_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each metric's mean over the seeds' rows (None where any seed has None), and ``seeds``."""
    out: dict[str, Any] = {}
    for key in rows[0]:
        values = [r[key] for r in rows]
        out[key] = None if any(v is None for v in values) else float(np.mean(values))
    for key in ("update", "env_steps"):
        out[key] = rows[0][key]
    out["seed"] = None if len(rows) > 1 else rows[0]["seed"]
    out["seeds"] = len(rows)
    return out
