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

The rule runs compiled, one driver at a time, in :func:`evprice.market.kernel.choose`.
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
