"""Charging sessions: when an EV charges, how long it occupies a charger, how much it gets.

An EV admitted in sub-step ``j`` plugs in at the start of that sub-step, ``t_a = j dt``.
It draws the charger power ``P`` until its energy demand ``E`` is met or it leaves after
its dwell time ``D``, i.e. during ``[t_a, t_a + min(E / P, D))``, so it receives
``min(E, P D)`` kWh. Its charger is occupied for whole sub-steps: from ``j`` to
``j + ceil(D / dt) - 1``, and is free again for an arrival in the sub-step after it
leaves. (A charger freed in the middle of a sub-step becomes available at the next
sub-step: the only rounding in the model, of at most one ``dt``.)
"""

from __future__ import annotations

import numpy as np

from evprice.market.profiles import SECONDS_PER_HOUR


def arrival_events(arrivals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turn arrival counts into events, in time order.

    Args:
        arrivals: (B, S) EVs arriving in each sub-step of the period.

    Returns:
        ``(substep, count)``: (B, M) the sub-step (0 .. S-1) of each batch member's
        ``m``-th arrival, ``M = max_b count[b]``, padded with ``S``; and (B,) the number of
        arrivals of each batch member.
    """
    count = arrivals.sum(axis=1)
    m_max = int(count.max()) if count.size else 0
    cum = np.cumsum(arrivals, axis=1)
    # event m happens in the first sub-step whose cumulative count exceeds m
    substep = (cum[:, None, :] <= np.arange(m_max)[None, :, None]).sum(axis=2)
    return substep, count


def charging_duration_s(energy_kwh: np.ndarray, dwell_s: np.ndarray, power_kw: np.ndarray) -> np.ndarray:
    """Seconds an EV draws power: ``min(E / P, D)`` (broadcasting)."""
    return np.minimum(energy_kwh / power_kw * SECONDS_PER_HOUR, dwell_s)


def occupied_substeps(dwell_s: np.ndarray, dt_s: int) -> np.ndarray:
    """Whole sub-steps a charger stays occupied, ``ceil(D / dt)`` and at least 1 (int64)."""
    return np.maximum(np.ceil(dwell_s / dt_s), 1).astype(np.int64)


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


def occupied_substeps_in_window(first: np.ndarray, last: np.ndarray, j0: int, j1: int) -> np.ndarray:
    """How many sub-steps of ``j0 .. j1 - 1`` lie in ``first .. last`` (inclusive), elementwise."""
    return np.maximum(np.minimum(last, j1 - 1) - np.maximum(first, j0) + 1, 0)
