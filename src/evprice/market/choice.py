"""Driver choice: a random-utility model over the stations and an optional outside option.

An arriving driver values station ``k`` at

    u_k =   station_utility_k
          - price_sensitivity * price_k
          - congestion_sensitivity * occupancy_k
          - travel_time_sensitivity * travel_time_k
          + eps_k

(``occupancy_k``: EVs present per charger, queued EVs included, so above 1 with a queue)
and the outside option ("give up / charge elsewhere") at ``u_0 = outside_option_utility +
eps_0``. With i.i.d. Gumbel noise of scale ``sigma`` the choice is multinomial logit,
``P(k) = exp(v_k / sigma) / sum_j exp(v_j / sigma)`` (see :func:`logit_probabilities`);
with normal noise it is probit. The driver takes the alternative of highest utility.

If that is a full station, the driver is blocked (``when_full="block"``), or chooses again
among what is still open (``when_full="reroute"``): the station with a free charger it
values most, unless the outside option is worth more to it. A driver turned away by a
full station who then does not charge (every station full, or the outside option
preferred to every free one) is *blocked*, counted against the station it chose first;
*gave up* is kept for drivers who prefer the outside option to every station, full or
not, so it measures price and congestion, and blocking measures capacity.

Generalised-cost drivers (:mod:`evprice.market.dynamics`) see occupancy: they choose with
the rerouting rule whatever ``when_full`` is, so a full station is never their choice.
"""

from __future__ import annotations

import numpy as np

ADMITTED = 0
BLOCKED = 1
GAVE_UP = 2
NO_EVENT = 3
"""Status codes of an arrival event (``NO_EVENT`` marks padding in a batch)."""


def systematic_utility(price_per_kwh: np.ndarray, price_sensitivity: float, base_utility: np.ndarray) -> np.ndarray:
    """Utility without congestion and noise, shape of ``price_per_kwh`` (..., N).

    ``base_utility`` (N,) is the station utility minus the utility lost to travel time.
    """
    return base_utility - price_sensitivity * price_per_kwh


def choose(
    utility: np.ndarray,
    outside_utility: np.ndarray | None,
    has_free_charger: np.ndarray,
    reroute: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """One driver per row picks a station.

    Args:
        utility: (B, N) realised utility of each station, noise included.
        outside_utility: (B,) realised utility of the outside option, or None if there is none.
        has_free_charger: (B, N) whether each station can take one more EV.
        reroute: if the first choice is full, go to the best station with a free charger.

    Returns:
        ``(station, status)``, both (B,) int: the station the driver charges at (or was
        blocked at: its first choice), and ``ADMITTED``, ``BLOCKED`` or ``GAVE_UP``.
    """
    rows = np.arange(utility.shape[0])
    first = utility.argmax(axis=1)
    blocked = ~has_free_charger[rows, first]
    station = first
    if reroute:
        free_utility = np.where(has_free_charger, utility, -np.inf)
        alternative = free_utility.argmax(axis=1)
        best_free = free_utility[rows, alternative]  # -inf when every station is full
        if outside_utility is not None:
            best_free = np.where(outside_utility > best_free, -np.inf, best_free)
        rerouted = blocked & np.isfinite(best_free)
        station = np.where(rerouted, alternative, first)
        blocked = blocked & ~rerouted
    status = np.where(blocked, BLOCKED, ADMITTED)
    if outside_utility is not None:
        status = np.where(outside_utility > utility[rows, first], GAVE_UP, status)
        station = np.where(status == GAVE_UP, first, station)
    return station, status


def logit_probabilities(systematic: np.ndarray, outside_utility: float | None, scale: float) -> np.ndarray:
    """Multinomial-logit choice probabilities (Gumbel noise of ``scale``), ignoring capacity.

    Args:
        systematic: (..., N) utility of each station without noise.
        outside_utility: systematic utility of the outside option, or None.
        scale: Gumbel scale ``sigma``.

    Returns:
        (..., N + 1): the probability of each station, then of the outside option (0 when
        there is none).
    """
    v = np.asarray(systematic, dtype=np.float64) / scale
    out = -np.inf if outside_utility is None else outside_utility / scale
    full = np.concatenate([v, np.broadcast_to(out, v.shape[:-1] + (1,))], axis=-1)
    full = full - full.max(axis=-1, keepdims=True)
    w = np.exp(full)
    return w / w.sum(axis=-1, keepdims=True)
