"""Waiting time at a station with ``c`` chargers: what a driver expects, and queueing theory.

A station is a first-come-first-served queue with ``c`` servers (chargers). The service
time is the *dwell* time (how long an EV holds a charger), with mean ``m`` hours and
squared coefficient of variation ``scv`` (``cv**2``; 1 for exponential).

**What a driver expects** (:func:`expected_wait_h`). A driver who finds ``n`` EVs at the
station (charging or queued) waits for ``n - c + 1`` departures when ``n >= c``. With
exponential service these are ``c``-server departures at rate ``c / m`` each, so the wait is
exactly ``(n - c + 1) m / c`` (M/M/c). With general service the first departure is the
least residual of ``c`` sessions in progress; the standard two-moment approximation
(Allen–Cunneen) replaces the first ``m / c`` by ``(1 + scv) / 2 * m / c``:

    E[W | n] = 0                                          n < c
    E[W | n] = ((1 + scv) / 2 + (n - c)) * m / c           n >= c

It is finite for every occupancy, increasing in ``n`` and in ``m``, and exact for M/M/c.

Document 2 instead used the steady-state M/G/c mean wait on the arrival rate, which is
infinite once the load ``lambda m / c`` reaches 1: a station that is briefly over-subscribed
then looks infinitely bad. The steady-state formulas below say the same thing honestly (they
return ``inf`` there); :func:`mmck_mean_wait_h` is the finite-waiting-room queue, well
defined at every load, and is what the world's ``when_full="queue"`` mode simulates.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def expected_wait_h(
    n_present: np.ndarray, chargers: np.ndarray, service_mean_h: float, service_scv: float
) -> np.ndarray:
    """Expected wait of a driver who finds ``n_present`` EVs at a station (see the module docstring).

    Args:
        n_present: (...) EVs at the station on arrival, charging or queued (>= 0).
        chargers: (...) chargers ``c`` (>= 1), broadcast against ``n_present``.
        service_mean_h: mean dwell time ``m``, hours (> 0).
        service_scv: squared coefficient of variation of the dwell time (>= 0).

    Returns:
        (...) hours, finite and non-decreasing in ``n_present``.
    """
    n = np.asarray(n_present, dtype=np.float64)
    c = np.asarray(chargers, dtype=np.float64)
    ahead = n - c  # EVs that must start before this one, beyond the first departure
    first = 0.5 * (1.0 + service_scv)
    return np.where(ahead >= 0, (first + np.maximum(ahead, 0.0)) * service_mean_h / c, 0.0)


def erlang_c(chargers: int, offered_load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang C), offered load ``a = lambda m``.

    1 when ``a >= c`` (the queue is unstable: every arrival eventually waits).
    """
    c, a = int(chargers), float(offered_load)
    if a >= c:
        return 1.0
    if a == 0.0:
        return 0.0
    # P(wait) = B / (1 - rho (1 - B)) with the Erlang-B blocking B, computed stably
    b = erlang_b(c, a)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def erlang_b(chargers: int, offered_load: float) -> float:
    """Blocking probability of an M/G/c/c loss system (Erlang B), by the stable recursion."""
    b = 1.0
    for k in range(1, int(chargers) + 1):
        b = offered_load * b / (k + offered_load * b)
    return float(b)


def mgc_mean_wait_h(arrival_rate_per_h: float, chargers: int, service_mean_h: float, service_scv: float) -> float:
    """Steady-state mean wait of an M/G/c queue (Allen–Cunneen): ``C(c, a) m / (c - a) * (1 + scv) / 2``.

    ``inf`` when the load ``a / c = lambda m / c`` is 1 or more: there is no steady state.
    Exact for M/M/c (``scv = 1``).
    """
    a = arrival_rate_per_h * service_mean_h
    if a >= chargers:
        return float("inf")
    return erlang_c(chargers, a) * service_mean_h / (chargers - a) * 0.5 * (1.0 + service_scv)


def mmck_distribution(arrival_rate_per_h: float, chargers: int, places: int, service_mean_h: float) -> np.ndarray:
    """Stationary distribution of EVs at an M/M/c/K station (``K = places >= c``: chargers + waiting spaces).

    Returns ``p`` (K + 1,): ``p[n]`` the long-run fraction of time with ``n`` EVs present.
    Well defined at every load, over capacity included (the waiting room is finite).
    """
    c, k = int(chargers), int(places)
    if c < 1:
        raise ValueError(f"chargers={chargers!r} is invalid: expected an integer >= 1")
    if k < c:
        raise ValueError(f"places={places!r} is invalid: expected an integer >= chargers={chargers}")
    a = arrival_rate_per_h * service_mean_h
    n = np.arange(k + 1)
    if a == 0:
        return np.where(n == 0, 1.0, 0.0)
    # log p_n (unnormalised): a^n / n! for n <= c, a^n / (c! c^(n - c)) above
    log_p = np.where(
        n <= c,
        n * np.log(a) - special.gammaln(n + 1),
        n * np.log(a) - special.gammaln(c + 1) - (n - c) * np.log(c),
    )
    log_p -= log_p.max()
    p = np.exp(log_p)
    return p / p.sum()


def mmck_mean_wait_h(arrival_rate_per_h: float, chargers: int, places: int, service_mean_h: float) -> float:
    """Mean wait of the EVs *admitted* to an M/M/c/K station, hours (finite at every load).

    Little's law on the queue: ``W = L_q / lambda_admitted`` with ``lambda_admitted =
    lambda (1 - p_K)``.
    """
    p = mmck_distribution(arrival_rate_per_h, chargers, places, service_mean_h)
    n = np.arange(len(p))
    queued = float(p @ np.maximum(n - chargers, 0))
    admitted = arrival_rate_per_h * (1.0 - p[-1])
    return queued / admitted if admitted > 0 else 0.0


def mmck_blocking(arrival_rate_per_h: float, chargers: int, places: int, service_mean_h: float) -> float:
    """Fraction of arrivals turned away by an M/M/c/K station (all ``K`` places taken; PASTA)."""
    return float(mmck_distribution(arrival_rate_per_h, chargers, places, service_mean_h)[-1])
