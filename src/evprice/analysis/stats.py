"""Intervals over independent runs: the one home of the Student t interval of a mean."""

from __future__ import annotations

import numpy as np
from scipy import stats


def mean_ci(values: list[float] | np.ndarray) -> tuple[float, list[float] | None]:
    """Mean of ``values`` (K,) over independent runs (seeds, episodes) and its 95% Student t
    interval (None for one value)."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return float(v.mean()), None
    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return float(v.mean()), [float(v.mean() - half), float(v.mean() + half)]
