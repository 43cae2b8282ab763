"""Daily profile of the feeder's base (non-EV) load.

``IEEE_RTS_WINTER_WEEKDAY``: the hourly load of a winter weekday in the IEEE Reliability
Test System (IEEE RTS Task Force, "IEEE Reliability Test System", IEEE Trans. PAS-98(6),
1979, Table 4, weeks 1-8 and 44-52, weekday column), as a fraction of the daily peak. Hour
``h`` covers ``h:00-h+1:00``; the peak (1.0) falls at 17-19 h. The feeders' published
loads are peak loads, so the profile multiplies them directly.
"""

from __future__ import annotations

import numpy as np

IEEE_RTS_WINTER_WEEKDAY = (
    0.67, 0.63, 0.60, 0.59, 0.59, 0.60, 0.74, 0.86, 0.95, 0.96, 0.96, 0.95,
    0.95, 0.95, 0.93, 0.94, 0.99, 1.00, 1.00, 0.96, 0.91, 0.83, 0.73, 0.63,
)  # fmt: skip
"""Hourly base load as a fraction of the daily peak (IEEE RTS 1979, winter weekday)."""


def base_load_factors(profile: np.ndarray, scale: float, noise: np.ndarray) -> np.ndarray:
    """Load factor of each episode hour: ``scale * profile[hour] * (1 + noise)``, floored at 0.

    Args:
        profile: (H,) the profile at each hour of the episode.
        scale: multiplier of the feeder's peak loads.
        noise: (B, H) relative deviation of each episode's hours (0 = none).

    Returns:
        (B, H) factors multiplying every bus's peak load.
    """
    return np.maximum(scale * profile * (1.0 + noise), 0.0)
