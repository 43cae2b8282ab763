"""Progress for logs: whole lines on stderr, never cut to a terminal's width.

On a terminal the CLI draws rich progress bars. Redirected to a file, a bar would be cut
to 80 columns (``eval 29.577 (Delt...``) and the last state would never reach the log.
:class:`LogProgress` takes the bar's place there, with the same ``add_task`` / ``update``
calls: a line at every tenth of the work and a summary line at the end. :func:`eta_line`
formats one line of a run made of parts (an experiment's arms).
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

LINES_PER_RUN = 10
"""Progress lines a run of known length prints before its summary: one per tenth."""


def duration_text(seconds: float) -> str:
    """``"42 s"``, ``"3 min 05 s"`` or ``"1 h 02 min"``."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def eta_line(title: str, done: int, total: int, elapsed_s: float, unit: str = "", parallel: int = 1) -> str:
    """``"title: 3/8 arms, 5 min 12 s elapsed, about 8 min 40 s left"``: the time left assumes
    every part takes as long as the finished ones did on average.

    ``parallel`` parts run at once (local workers), started together and each replaced by the
    next as it finishes: a part takes about ``elapsed x parallel / done`` (the elapsed time
    while fewer than ``parallel`` have finished), and the whole run ``ceil(total / parallel)``
    such durations. With one at a time that is ``elapsed / done x (total - done)`` left."""
    text = f"{title}: {done:,}/{total:,}{f' {unit}' if unit else ''}, {duration_text(elapsed_s)} elapsed"
    if 0 < done < total:
        width = max(1, min(parallel, total))
        part_s = elapsed_s if done < width else elapsed_s * width / done  # the first wave: all started at 0
        left_s = max(0.0, -(-total // width) * part_s - elapsed_s)
        text += f", about {duration_text(left_s)} left"
    return text


class LogProgress:
    """A stand-in for ``rich.progress.Progress`` that writes whole lines (see the module docstring).

    One task at a time. ``update(task, completed=..., status=...)`` prints a line when the work
    crosses the next tenth of ``total`` (every update when ``total`` is None, at most one
    every 10 s); leaving the ``with`` block prints ``"<title>: done, <completed>/<total> in <time>;
    <status>"``. ``quiet`` prints nothing.
    """

    def __init__(self, quiet: bool = False, stream: TextIO | None = None, unit: str = "steps") -> None:
        self.quiet = quiet
        self.stream = stream
        self.unit = unit
        self._title = ""
        self._total: int | None = None
        self._completed = 0
        self._status = ""
        self._next = 0.0
        self._last_print = -math.inf
        self._t0 = time.perf_counter()

    def __enter__(self) -> LogProgress:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None and self._title:
            total = "" if self._total is None else f"/{self._total:,}"
            status = f"; {self._status}" if self._status else ""
            elapsed = duration_text(time.perf_counter() - self._t0)
            self._write(f"{self._title}: done, {self._completed:,}{total} {self.unit} in {elapsed}{status}")

    def add_task(self, description: str, total: int | None = None, **fields: Any) -> int:
        self._title, self._total = description, total
        self._status = str(fields.get("status", ""))
        self._next = 0.0 if total is None else total / LINES_PER_RUN
        return 0

    def update(self, task: int, completed: int | None = None, status: str | None = None, **_: Any) -> None:
        if completed is not None:
            self._completed = int(completed)
        if status is not None:
            self._status = status
        now = time.perf_counter()
        if self._total is None:
            if now - self._last_print < 10.0:
                return
        elif self._completed < self._next or self._completed >= self._total:
            return  # the summary line reports the end
        else:
            while self._next <= self._completed:
                self._next += self._total / LINES_PER_RUN
        self._last_print = now
        total = self._total or 0
        line = eta_line(self._title, self._completed, total, now - self._t0, self.unit) if total else self._title
        self._write(line + (f"  {self._status}" if self._status else ""))

    def _write(self, line: str) -> None:
        if not self.quiet:
            stream = self.stream or sys.stderr
            stream.write(line + "\n")
            stream.flush()
