"""Intervals over independent runs: the one home of the Student t interval of a mean."""

from __future__ import annotations

import numpy as np
from scipy import stats


def mean_ci(
    values: list[float] | np.ndarray, low: float | None = None, high: float | None = None
) -> tuple[float, list[float] | None]:
    """Mean of ``values`` (K,) over independent runs (seeds, episodes) and its 95% Student t
    interval (None for one value).

    ``low`` / ``high``: the quantity's support (``low=0`` for a count, an energy or a
    revenue), to which the interval is cut: a mean cannot lie outside it, and a t interval
    on few skewed runs can (``blocked [-2.18, 4.18]``).
    """
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return float(v.mean()), None
    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    lo, hi = float(v.mean() - half), float(v.mean() + half)
    if low is not None:
        lo, hi = max(lo, low), max(hi, low)
    if high is not None:
        lo, hi = min(lo, high), min(hi, high)
    return float(v.mean()), [lo, hi]


def diff_ci(a: list[float] | np.ndarray, b: list[float] | np.ndarray) -> tuple[float, list[float] | None]:
    """``mean(a) - mean(b)`` of two independent groups of runs (e.g. two arms' seeds) and its
    95% Welch interval (Student t with the Welch-Satterthwaite degrees of freedom; None when a
    group has one value or neither varies)."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    d = float(x.mean() - y.mean())
    if len(x) < 2 or len(y) < 2:
        return d, None
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    if vx + vy == 0.0:
        return d, None
    dof = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = float(stats.t.ppf(0.975, dof) * np.sqrt(vx + vy))
    return d, [d - half, d + half]
