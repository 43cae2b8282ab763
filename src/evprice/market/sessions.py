"""Charging sessions: when an EV charges, how long it holds a charger, how much it gets.

An EV admitted at time ``t_a`` holds its charger until it leaves at ``t_a + D`` (its dwell
time). It draws the charger power ``P`` from arrival until its energy demand ``E`` is met
or it leaves, i.e. during ``[t_a, t_a + min(E / P, D))``, and so receives ``min(E, P D)``
kWh. Times are continuous: the internal step ``dt`` only sets how finely energy and money
are accounted, never when a charger is free.
"""

from __future__ import annotations

import numpy as np

from evprice.market.profiles import SECONDS_PER_HOUR


def charging_duration_s(energy_kwh: np.ndarray, dwell_s: np.ndarray, power_kw: np.ndarray) -> np.ndarray:
    """Seconds an EV draws power: ``min(E / P, D)`` (broadcasting)."""
    return np.minimum(energy_kwh / power_kw * SECONDS_PER_HOUR, dwell_s)


def window_overlap_s(start_s: np.ndarray, end_s: np.ndarray, edges_s: np.ndarray) -> np.ndarray:
    """Seconds of ``[start, end)`` inside each window ``[edges[i], edges[i+1])``.

    Args:
        start_s, end_s: (...) interval bounds (``start_s`` may be a scalar).
        edges_s: (S + 1,) increasing window edges.

    Returns:
        (..., S) overlaps, each in ``[0, edges[i+1] - edges[i]]``.
    """
    lo = np.maximum(np.asarray(start_s)[..., None], edges_s[:-1])
    hi = np.minimum(end_s[..., None], edges_s[1:])
    return np.maximum(hi - lo, 0.0)


def interval_overlap_s(start_s: np.ndarray, end_s: np.ndarray, lo_s: float, hi_s: float) -> np.ndarray:
    """Seconds of ``[start, end)`` inside ``[lo, hi)``, elementwise."""
    return np.maximum(np.minimum(end_s, hi_s) - np.maximum(start_s, lo_s), 0.0)
