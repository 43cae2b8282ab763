"""A driver's choice of a station, compiled (the rule is :mod:`evprice.market.choice`'s): the
station of the highest realised utility (noise included, drawn by the period), rerouted to
the best station with a free place when that is full, or the outside option."""

from __future__ import annotations

import numpy as np
from numba import njit

from evprice.core.jit import CACHE
from evprice.market.kernel.layout import (
    ADMITTED,
    BLOCKED,
    GAVE_UP,
)


@njit(cache=CACHE, inline="always")
def _argmax(u, n):
    """First index of the largest of ``u[:n]`` (0 when all are -inf), as ``numpy.argmax``."""
    best = 0
    for k in range(1, n):
        if u[k] > u[best]:
            best = k
    return best


@njit(cache=CACHE, inline="always")
def choose(
    utility: np.ndarray,
    present: np.ndarray,
    places: np.ndarray,
    outside_utility: float,
    has_outside: bool,
    reroute: bool,
) -> tuple[int, int]:
    """One driver picks a station (the rule of :mod:`evprice.market.choice`).

    Args:
        utility: (N,) realised utility of each station, noise included (-inf: not an option).
        present: (N,) EVs at each station; places: (N,) how many it can hold (free iff
            ``present < places``).
        outside_utility: realised utility of the outside option (read if ``has_outside``).
        reroute: if the first choice is full, go to the best station with a free place.

    Returns:
        ``(station, status)``: where the driver charges (or was blocked, or gave up: its first
        choice), and ``ADMITTED``, ``BLOCKED`` or ``GAVE_UP``.
    """
    n = utility.shape[0]
    first = _argmax(utility, n)
    k = first
    is_blocked = not present[first] < places[first]
    if reroute and is_blocked:
        alt = -1
        for j in range(n):
            if present[j] < places[j] and (alt < 0 or utility[j] > utility[alt]):
                alt = j
        if alt >= 0 and utility[alt] > -np.inf and not (has_outside and outside_utility > utility[alt]):
            k = alt
            is_blocked = False
    code = BLOCKED if is_blocked else ADMITTED
    if has_outside and outside_utility > utility[first]:
        code = GAVE_UP
        k = first
    return k, code
