"""One pricing period of every batch member, compiled: the drivers' choice (:func:`choose`),
the sessions' booking, :func:`advance_serial` / :func:`advance_parallel` and the features'
state values (:func:`state_values`)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from evprice.core.jit import CACHE
from evprice.market.kernel.choice import choose
from evprice.market.kernel.draws import sample
from evprice.market.kernel.layout import (
    BASE_UTILITY,
    BETA,
    BLOCKED,
    BUDGET_H,
    CAPACITY,
    CONGESTION,
    DT_S,
    DWELL_MEAN_H,
    DWELL_SCV,
    EFFICIENCY,
    EMA_DECAY,
    FIRST_HOUR,
    FIXED,
    GAVE_UP,
    GENERALISED,
    HAS_BUDGET,
    HAS_OUTSIDE,
    HORIZON_S,
    MARGINAL,
    N_HOURS,
    OUTSIDE_PRICE,
    OUTSIDE_TIME_H,
    OUTSIDE_UTILITY,
    PERIOD_H,
    POWER,
    QUEUE,
    REROUTE,
    START_S,
    SUBSTEPS,
    SURPLUS,
    TRAVEL_H,
    TRAVEL_PER_MIN,
    TRAVEL_WEIGHT,
    VOT_PER_H,
)

PARALLEL_MIN_BATCH = 128
"""Batches of at least this many members run over numba's thread pool; smaller ones run
serially. Starting the pool costs more than it saves for a few members, and next to a
trainer's torch threads the two pools compete. Measured on 2 cores, MAPPO on
`PublicCharging-v0` ran at 17.6k (pool) against 19.3k (serial) env-steps/s with 64
environments, level with 128, and at 41.7k against 35.2k with 256."""


@njit(cache=CACHE, inline="always")
def _book_substeps(energy_sub, revenue_sub, b, k, start, end, t0, dt, s, kwh_per_s, price):
    """Add to ``[b, k]`` the energy ``kwh_per_s x overlap`` of ``[start, end)`` with each sub-step, and its revenue."""
    if end <= start:
        return
    j = max(0, int((start - t0) // dt))
    while j < s:
        lo = t0 + j * dt
        if lo >= end:
            break
        seconds = min(end, lo + dt) - max(start, lo)
        if seconds > 0.0:
            kwh = seconds * kwh_per_s
            energy_sub[b, k, j] += kwh
            revenue_sub[b, k, j] += kwh * price
        j += 1


@njit(cache=CACHE, inline="always")
def _price_integral(elec, cum, b, t, scalars, flags):
    """``G(t)``: the hourly wholesale price integrated from the episode's first hour to ``t``."""
    first_hour = flags[FIRST_HOUR]
    into = scalars[START_S] + t
    hour = min(int(into // 3600.0) - first_hour, flags[N_HOURS] - 1)
    return cum[b, hour] + elec[b, hour] * (into - (first_hour + hour) * 3600.0)


@njit(cache=CACHE, inline="always")
def fcfs_start_s(depart_s: np.ndarray, places: int, present: int, chargers: int, t_s: float, work: np.ndarray) -> float:
    """When an EV arriving at ``t_s`` gets a charger, first come first served.

    Every EV present arrived earlier, so the newcomer starts once ``present - chargers + 1``
    of them have left: at the ``(present - chargers + 1)``-th earliest departure among them
    (Kiefer and Wolfowitz's workload recursion), or at once when a charger is free.

    Args:
        depart_s: (C,) departure times of the station's slots (free ones ``<= t_s``); slots
            from ``places`` on are padding.
        present: EVs present at ``t_s``; chargers: the station's chargers.
        work: (>= C,) scratch space.

    Returns:
        The start time, ``>= t_s``.
    """
    if present < chargers:
        return t_s
    n_slots = depart_s.shape[0]
    n_free = 0
    for c in range(n_slots):
        work[c] = depart_s[c] if c < places else np.inf
        if work[c] <= t_s:
            n_free += 1
    ordered = np.sort(work[:n_slots])
    k = min(max(n_free + present - chargers, 0), n_slots - 1)
    return max(t_s, ordered[k])


STATION_OUTPUTS = (
    "revenue_ema_per_h",
    "cost_ema_per_h",
    "energy_cost",
    "utilization",
    "waiting_h",
    "booked_profit",
    "energy_kwh",
    "revenue",
    "fixed_cost",
)
"""The (B, N) float outputs of a period, in the order of the kernel's per-station block."""

OUTPUT_BLOCKS = (
    ("slot_depart_s", "slot_start_s", "slot_charge_end_s", "slot_price_per_kwh"),
    STATION_OUTPUTS,
    ("energy_kwh_per_substep", "revenue_per_substep"),
    ("admitted", "blocked"),
    ("arrivals", "gave_up"),
    ("consumer_surplus",),
)
"""What each of the blocks :func:`advance_serial` returns holds, along its first axis."""


@njit(cache=CACHE, inline="always")
def _member_period(b, t0, hour_of_substep, price, state, draws, travel, has_zones, par, out, scratch, cum):
    """Run member ``b``'s period, writing row ``b`` of every output (see :func:`advance_serial`).

    ``scratch[b]`` (4, max(N, C)) and ``cum[b]`` (H + 1,) are the member's own work space.
    """
    slot_depart, slot_start, slot_charge_end, slot_price, revenue_ema, cost_ema, elec = state
    offset, noise, dwell, energy, origin = draws
    station, capacity, places, scalars, flags, ema_weights, _, _ = par
    (
        out_depart,
        out_start,
        out_charge_end,
        out_price,
        out_revenue_ema,
        out_cost_ema,
        energy_sub,
        revenue_sub,
        energy_cost,
        admitted,
        blocked,
        utilization,
        arrivals,
        gave_up,
        waiting_h,
        booked_profit,
        surplus,
        energy_total,
        revenue_total,
        fixed_cost,
    ) = out
    n = price.shape[1]
    n_slots = slot_depart.shape[2]
    s = flags[SUBSTEPS]
    dt = scalars[DT_S]
    t1 = t0 + s * dt
    generalised = flags[GENERALISED] == 1
    queue = flags[QUEUE] == 1
    reroute = flags[REROUTE] == 1
    has_outside = flags[HAS_OUTSIDE] == 1
    has_budget = flags[HAS_BUDGET] == 1
    may_exclude = has_budget or has_zones
    beta = scalars[BETA]
    vot = scalars[VOT_PER_H]
    horizon = scalars[HORIZON_S]
    efficiency = scalars[EFFICIENCY]
    utility = scratch[b, 0]
    present = scratch[b, 1]
    wait = scratch[b, 2]
    ordered = scratch[b, 3]
    bt = b if travel.shape[0] > 1 else 0

    # the hourly price integral of this member, for whole-session profits
    cum[b, 0] = 0.0
    for h in range(elec.shape[1]):
        cum[b, h + 1] = cum[b, h] + elec[b, h] * 3600.0

    # 4 (sessions under way): the sessions still charging as the period starts, and the
    # charger time of every EV already present
    for k in range(n):
        kwh_per_s = station[POWER, k] / 3600.0
        held = 0.0
        for c in range(places[k]):
            out_depart[b, k, c] = slot_depart[b, k, c]
            out_start[b, k, c] = slot_start[b, k, c]
            out_charge_end[b, k, c] = slot_charge_end[b, k, c]
            out_price[b, k, c] = slot_price[b, k, c]
            if slot_charge_end[b, k, c] > t0:
                _book_substeps(
                    energy_sub,
                    revenue_sub,
                    b,
                    k,
                    max(slot_start[b, k, c], t0),
                    slot_charge_end[b, k, c],
                    t0,
                    dt,
                    s,
                    kwh_per_s,
                    slot_price[b, k, c],
                )
            held += max(min(slot_depart[b, k, c], t1) - max(slot_start[b, k, c], t0), 0.0)
        for c in range(places[k], n_slots):  # padding: never free, never used
            out_depart[b, k, c] = slot_depart[b, k, c]
            out_start[b, k, c] = slot_start[b, k, c]
            out_charge_end[b, k, c] = slot_charge_end[b, k, c]
            out_price[b, k, c] = slot_price[b, k, c]
        utilization[b, k] = held

    # 2 and 3: the arrivals, one at a time in time order
    count = 0
    surplus_sum = 0.0
    for m in range(offset.shape[1]):
        if not offset[b, m] < np.inf:
            break
        count += 1
        t = t0 + offset[b, m]
        e_kwh = energy[b, m]
        z = origin[b, m]
        any_finite = False
        for k in range(n):
            p = 0
            for c in range(places[k]):
                if out_depart[b, k, c] > t:
                    p += 1
            present[k] = p
            tt = travel[bt, z, k] if has_zones else station[TRAVEL_H, k]
            unreachable = has_zones and tt == np.inf
            if generalised:
                finite_tt = 0.0 if unreachable else tt
                u = -(price[b, k] * e_kwh + vot * scalars[TRAVEL_WEIGHT] * finite_tt)
            else:
                u = station[BASE_UTILITY, k] - beta * price[b, k]
                if has_zones:
                    per_min = scalars[TRAVEL_PER_MIN]
                    u = (u + per_min * station[TRAVEL_H, k]) - per_min * (0.0 if unreachable else tt)
            if unreachable:
                u = -np.inf
            u += noise[b, m, k]
            w = 0.0
            if generalised:
                if queue:
                    ahead = p - capacity[k]
                    if ahead >= 0:
                        w = (0.5 * (1.0 + scalars[DWELL_SCV]) + ahead) * scalars[DWELL_MEAN_H] / station[CAPACITY, k]
                    u -= vot * w
                if has_budget and tt + w > scalars[BUDGET_H]:
                    u = -np.inf
            elif scalars[CONGESTION] != 0.0:
                u -= scalars[CONGESTION] * p / station[CAPACITY, k]
            wait[k] = w
            utility[k] = u
            if u > -np.inf:
                any_finite = True
        outside_u = 0.0
        if has_outside:
            if generalised:
                outside_u = -(scalars[OUTSIDE_PRICE] * e_kwh + vot * scalars[OUTSIDE_TIME_H])
            else:
                outside_u = scalars[OUTSIDE_UTILITY]
            outside_u += noise[b, m, n]
        k, code = choose(utility[:n], present[:n], places, outside_u, has_outside, reroute)
        if may_exclude and not any_finite:  # every station unreachable or beyond the time budget
            code = GAVE_UP
        if code == GAVE_UP:
            gave_up[b] += 1
            continue
        if code == BLOCKED:
            blocked[b, k] += 1
            continue
        # admitted: the first free slot; with a queue, charging starts first come first served
        free = 0
        while out_depart[b, k, free] > t:
            free += 1
        start = fcfs_start_s(out_depart[b, k], places[k], int(present[k]), capacity[k], t, ordered) if queue else t
        d = dwell[b, m]
        power = station[POWER, k]
        charge_end = start + min(e_kwh / power * 3600.0, d)
        out_depart[b, k, free] = start + d
        out_start[b, k, free] = start
        out_charge_end[b, k, free] = charge_end
        out_price[b, k, free] = price[b, k]
        admitted[b, k] += 1
        # its energy and revenue in this period, its charger time, its wait
        _book_substeps(energy_sub, revenue_sub, b, k, start, charge_end, t0, dt, s, power / 3600.0, price[b, k])
        utilization[b, k] += max(min(start + d, t1) - max(start, t0), 0.0)
        waiting_h[b, k] += start - t
        # its whole-session profit (charging up to the horizon) and the driver's surplus
        end = min(charge_end, horizon)
        begin = min(start, end)
        kwh = power * (end - begin) / 3600.0
        g = _price_integral(elec, cum, b, end, scalars, flags) - _price_integral(elec, cum, b, begin, scalars, flags)
        wholesale = power * g / 3600.0 / efficiency
        booked_profit[b, k] += kwh * (price[b, k] - station[MARGINAL, k]) - wholesale
        if flags[SURPLUS]:
            gain = utility[k] - outside_u
            money = 1.0 if generalised else e_kwh / beta
            value = money * gain + price[b, k] * (e_kwh - kwh)
            if generalised and queue:
                value += vot * (wait[k] - (start - t) / 3600.0)
            surplus_sum += value
    arrivals[b] = count
    surplus[b] = surplus_sum if flags[SURPLUS] else np.nan

    # 5 and 6: costs and the profit windows, by sub-step
    decay = scalars[EMA_DECAY]
    for k in range(n):
        unit_fixed = station[FIXED, k]
        fixed = unit_fixed * scalars[PERIOD_H]
        rev = decay * revenue_ema[b, k]
        cost = decay * cost_ema[b, k]
        total_cost = 0.0
        total_energy = 0.0
        total_revenue = 0.0
        for j in range(s):
            c_j = energy_sub[b, k, j] * (elec[b, hour_of_substep[j]] / efficiency + station[MARGINAL, k])
            total_cost += c_j
            total_energy += energy_sub[b, k, j]
            total_revenue += revenue_sub[b, k, j]
            rev += revenue_sub[b, k, j] * ema_weights[j]
            cost += c_j * ema_weights[j]
        out_revenue_ema[b, k] = rev
        out_cost_ema[b, k] = cost + unit_fixed * (1.0 - decay)
        energy_cost[b, k] = total_cost
        energy_total[b, k] = total_energy
        revenue_total[b, k] = total_revenue
        utilization[b, k] /= station[CAPACITY, k] * (t1 - t0)
        waiting_h[b, k] = waiting_h[b, k] / 3600.0 if queue else 0.0
        booked_profit[b, k] -= fixed
        fixed_cost[b, k] = fixed


@njit(cache=CACHE)
def _prepare(period, state, par):
    """The period's output blocks (see :data:`OUTPUT_BLOCKS`), zeroed where they accumulate; the
    outputs as the views of them the members write (:func:`_member_period`'s order); the members'
    work space; the period's start.

    Six blocks instead of twenty arrays: handing an array back to Python costs about 0.25 µs
    each, a fifth of a one-environment step's kernel time.
    """
    slot_depart = state[0]
    batch, n, n_slots = slot_depart.shape
    flags, scalars = par[4], par[3]
    s = flags[SUBSTEPS]
    slots = np.empty((4, batch, n, n_slots))
    rows = np.zeros((len(STATION_OUTPUTS), batch, n))
    substeps = np.zeros((2, batch, n, s))
    counts = np.zeros((2, batch, n), dtype=np.int64)
    member_counts = np.zeros((2, batch), dtype=np.int64)
    member_values = np.empty((1, batch))
    blocks = (slots, rows, substeps, counts, member_counts, member_values)
    out = (
        slots[0],
        slots[1],
        slots[2],
        slots[3],
        rows[0],
        rows[1],
        substeps[0],
        substeps[1],
        rows[2],
        counts[0],
        counts[1],
        rows[3],
        member_counts[0],
        member_counts[1],
        rows[4],
        rows[5],
        member_values[0],
        rows[6],
        rows[7],
        rows[8],
    )
    scratch = np.empty((batch, 4, max(n, n_slots)))
    cum = np.empty((batch, state[6].shape[1] + 1))
    return blocks, out, scratch, cum, period * s * scalars[DT_S]


@njit(cache=CACHE)
def advance_serial(period, price, state, draws, travel, has_zones, par, substep_hour, streams, sample_first):
    """One period of every member, one after the other (small batches).

    Args:
        period: the period's index in the episode; price: (B, N) posted prices.
        state: the slot arrays (B, N, C) x 4, the EMAs (B, N) x 2 and the hourly price (B, H).
        draws: the period's events (offset, noise, dwell, energy, origin), or with
            ``sample_first`` placeholders of their types, drawn here from ``streams``.
        travel: (1 or B, Z, N) hours, read if ``has_zones``.
        par: the packed parameters (:class:`Packed`: station table, capacity, places,
            scalars, flags, EMA weights, expected arrivals, origin CDF).

    Returns:
        The six output blocks of :data:`OUTPUT_BLOCKS`, each stacking arrays of one shape and
        dtype on its first axis: next slots (4, B, N, C), per-station values (9, B, N) in
        :data:`STATION_OUTPUTS` order, energy and revenue by sub-step (2, B, N, S), admitted
        and blocked (2, B, N) int, arrivals and gave up (2, B) int, consumer surplus (1, B).
    """
    if sample_first:  # draw the period's inputs here (``draws`` is a placeholder of the same types)
        draws = sample(streams, period, price.shape[0], price.shape[1], par[3], par[4], par[6], par[7], True)
    blocks, out, scratch, cum, t0 = _prepare(period, state, par)
    s = par[4][SUBSTEPS]
    hours = substep_hour[period * s : period * s + s]
    for b in range(price.shape[0]):
        _member_period(np.int64(b), t0, hours, price, state, draws, travel, has_zones, par, out, scratch, cum)
    return blocks


# A second function rather than a second compile of advance_serial: numba keys its disk cache
# by function and signature, not by the parallel option.
@njit(cache=CACHE, parallel=True)
def advance_parallel(period, price, state, draws, travel, has_zones, par, substep_hour, streams, sample_first):
    """One period of every member, over numba's thread pool (large batches)."""
    if sample_first:  # draw the period's inputs here (``draws`` is a placeholder of the same types)
        draws = sample(streams, period, price.shape[0], price.shape[1], par[3], par[4], par[6], par[7], True)
    blocks, out, scratch, cum, t0 = _prepare(period, state, par)
    s = par[4][SUBSTEPS]
    hours = substep_hour[period * s : period * s + s]
    for b in prange(price.shape[0]):
        _member_period(np.int64(b), t0, hours, price, state, draws, travel, has_zones, par, out, scratch, cum)
    return blocks


# -- the features' values ------------------------------------------------------------------
@njit(cache=CACHE)
def state_values(period, price, slot_depart, revenue_ema, cost_ema, elec, capacity, places, scalars, flags, extra):
    """Every market feature field in declared order (see :func:`evprice.market.features.state_vector`).

    Args:
        extra: (B, E) columns appended at the end (the couplings' features: a leader's commitment, the grid's).

    Returns:
        (B, 3 + 5 N) float64, or 3 + 6 N with a queue (its length after the price), plus ``extra``.
    """
    batch, n = price.shape
    per_station = 6 if flags[QUEUE] else 5
    values = np.empty((batch, 3 + per_station * n + extra.shape[1]))
    t = period * flags[SUBSTEPS] * scalars[DT_S]
    into_day = (scalars[START_S] + t) % 86400.0
    angle = 2.0 * np.pi * into_day / 86400.0
    hour = min(int((scalars[START_S] + t) // 3600.0) - flags[FIRST_HOUR], flags[N_HOURS] - 1)
    sin, cos = np.sin(angle), np.cos(angle)
    for b in range(batch):
        values[b, 0] = elec[b, hour]
        values[b, 1] = sin
        values[b, 2] = cos
        col = 3
        for k in range(n):
            present = 0
            for c in range(places[k]):
                if slot_depart[b, k, c] > t:
                    present += 1
            values[b, col] = min(present, capacity[k]) / capacity[k]
            values[b, col + 1] = price[b, k]
            col += 2
            if flags[QUEUE]:
                values[b, col] = max(present - capacity[k], 0)
                col += 1
            values[b, col] = revenue_ema[b, k] - cost_ema[b, k]
            values[b, col + 1] = revenue_ema[b, k]
            values[b, col + 2] = cost_ema[b, k]
            col += 3
        for e in range(extra.shape[1]):
            values[b, col + e] = extra[b, e]
    return values
