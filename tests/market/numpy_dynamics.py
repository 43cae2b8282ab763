"""Test oracle: the vectorised numpy dynamics that the compiled kernel replaced.

Until the compiled world (``evprice.market.kernel``) this was ``evprice.market.dynamics``:
the same seven stages, each evaluated for all ``S`` sub-steps and all batch members at
once with numpy, the arrivals of a period processed one event index at a time across the
batch. It is kept verbatim, with numpy's own draws (:func:`sample_period_draws`), so the
tests can compare the kernel with an independent implementation on the same inputs, and
``benchmarks/bench_env.py`` can time the environments on it (the interpreted reference).

Nothing in the package imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from evprice.market.choice import ADMITTED, BLOCKED, GAVE_UP, NO_EVENT, systematic_utility
from evprice.market.draws import SessionSampler, positive_draws
from evprice.market.dynamics import account_period, held_chargers
from evprice.market.params import MarketParams
from evprice.market.profiles import SECONDS_PER_HOUR
from evprice.market.queueing import expected_wait_h
from evprice.market.state import MarketState, PeriodDraws, PeriodOutcome
from evprice.market.welfare import money_per_utility, surplus_defined


# -- helpers the package had only for these dynamics --------------------------------------
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


def price_integral(params: MarketParams, elec_price_per_kwh: np.ndarray, t_s: np.ndarray) -> np.ndarray:
    """``G(t) = integral of the hourly wholesale price from the start of the episode's first hour to t``.

    ``G(t2) - G(t1)`` is the price-time integral over ``[t1, t2]``, (currency/kWh) x s; a
    charger drawing ``P`` kW over that interval costs ``P (G(t2) - G(t1)) / 3600 / efficiency``.

    Args:
        elec_price_per_kwh: (B, H) hourly prices of the episode.
        t_s: (B, ...) seconds since episode start, in ``[0, horizon]``.

    Returns:
        (B, ...) values of ``G``.
    """
    hour = params.hour_index(t_s)
    cum = np.zeros((elec_price_per_kwh.shape[0], elec_price_per_kwh.shape[1] + 1))
    np.cumsum(elec_price_per_kwh * SECONDS_PER_HOUR, axis=1, out=cum[:, 1:])
    rows = np.arange(len(cum)).reshape((-1,) + (1,) * (hour.ndim - 1))
    into_hour_s = params.start_s + np.asarray(t_s) - (params.first_hour + hour) * SECONDS_PER_HOUR
    return cum[rows, hour] + elec_price_per_kwh[rows, hour] * into_hour_s


def occupancy_fraction(params: MarketParams, state: MarketState) -> np.ndarray:
    """(B, N) fraction of chargers holding an EV as the next period starts."""
    present = held_chargers(params, state.slot_depart_s, float(state.period * params.config.action_period_s))[1]
    return np.minimum(present, params.capacity) / params.capacity


def queue_length(params: MarketParams, state: MarketState) -> np.ndarray:
    """(B, N) EVs waiting for a charger as the next period starts (0 unless ``when_full="queue"``)."""
    present = held_chargers(params, state.slot_depart_s, float(state.period * params.config.action_period_s))[1]
    return np.maximum(present - params.capacity, 0).astype(np.float64)


def _per_station(flat_station: np.ndarray, n_cells: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Sum ``weights`` (or count) by flat station index ``b * N + k`` into ``n_cells`` cells."""
    return np.bincount(flat_station, weights=weights, minlength=n_cells)


def fcfs_start_s(depart_s: np.ndarray, present: np.ndarray, chargers: np.ndarray, t_s: np.ndarray) -> np.ndarray:
    """When an EV arriving at ``t_s`` gets a charger, first come first served.

    Every EV present arrived earlier, so the newcomer starts once ``present - c + 1`` of them
    have left: at the ``(present - c + 1)``-th earliest departure among them (Kiefer and
    Wolfowitz's workload recursion), or at once when a charger is free.

    Args:
        depart_s: (A, C) departure times of the station's slots (free ones ``<= t``, padding ``inf``).
        present: (A,) EVs present at ``t_s``; chargers: (A,) the station's chargers; t_s: (A,).

    Returns:
        (A,) start times, ``>= t_s``.
    """
    rows = np.arange(len(t_s))
    ordered = np.sort(depart_s, axis=1)  # free slots first, then the present EVs' departures
    n_free = (depart_s <= t_s[:, None]).sum(axis=1)
    k = np.clip(n_free + present - chargers, 0, depart_s.shape[1] - 1)
    return np.where(present < chargers, t_s, np.maximum(t_s, ordered[rows, k]))


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


def _event_utilities(
    params: MarketParams, price: np.ndarray, draws: PeriodDraws, travel_time_h: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The part of each event's utility that does not depend on the queue.

    Returns ``(base (B, M, N), outside (B, M) or None, travel_h (B, M, N))``: utility mode:
    the systematic utility; generalised mode: minus the price paid and the travel time valued
    in currency; ``travel_h`` the event's travel time to each station (zeros without zones).
    """
    cfg = params.config
    b, m = draws.energy_kwh.shape
    n = params.n_stations
    if travel_time_h is None:  # the config's travel times: finite, the same for every driver
        travel = finite_travel = np.broadcast_to(params.travel_time_h, (b, m, n))
        unreachable = None
    else:
        tt = np.broadcast_to(travel_time_h, (b,) + travel_time_h.shape[-2:])  # (B, Z, N)
        travel = tt[np.arange(b)[:, None], draws.origin]  # (B, M, N)
        unreachable = np.isinf(travel)  # never chosen, whatever the weight of travel time (0 x inf is NaN)
        finite_travel = np.where(unreachable, 0.0, travel)
    mask = (lambda u: u) if unreachable is None else (lambda u: np.where(unreachable, -np.inf, u))  # noqa: E731
    if cfg.driver_cost == "utility":
        base = systematic_utility(price, cfg.price_sensitivity, params.base_utility)  # (B, N)
        if travel_time_h is not None:  # the zones' travel times replace the config's travel_time_min
            per_min = cfg.travel_time_sensitivity * 60.0
            base = (base + per_min * params.travel_time_h)[:, None, :] - per_min * finite_travel
        else:
            base = np.broadcast_to(base[:, None, :], (b, m, n))
        outside = None if cfg.outside_option_utility is None else np.full((b, m), cfg.outside_option_utility)
        return mask(base), outside, travel
    energy = draws.energy_kwh[..., None]  # (B, M, 1)
    base = mask(-(price[:, None, :] * energy + cfg.value_of_time_per_h * cfg.travel_time_weight * finite_travel))
    outside = None
    if cfg.outside_option_price_per_kwh is not None:
        outside = -(
            cfg.outside_option_price_per_kwh * draws.energy_kwh + cfg.value_of_time_per_h * cfg.outside_option_time_h
        )
    return base, outside, travel


@dataclass(frozen=True)
class Allocation:
    """Stage 3's result: ``slot_depart_s`` (B, N, C) after allocation, and per event (B, M)."""

    slot_depart_s: np.ndarray  # (B, N, C) s
    station: np.ndarray  # (B, M) int: where the driver charges (or was blocked: its first choice)
    status: np.ndarray  # (B, M) int8: ADMITTED, BLOCKED, GAVE_UP or NO_EVENT
    slot: np.ndarray  # (B, M) int: the slot taken (meaningful where admitted)
    start_s: np.ndarray  # (B, M) s: start of charging (meaningful where admitted)
    gain: np.ndarray  # (B, M) the chosen station's utility over the outside option's, noise included
    expected_wait_h: np.ndarray  # (B, M) the wait the driver expected at the chosen station


def _allocate(
    params: MarketParams,
    slot_depart_s: np.ndarray,
    price: np.ndarray,
    draws: PeriodDraws,
    event_s: np.ndarray,
    travel_time_h: np.ndarray | None = None,
) -> Allocation:
    """Stage 3: give the period's arrivals chargers, one event at a time, in time order.

    Each driver sees the EVs present at its arrival instant, including those admitted
    before it; with ``when_full="queue"`` it waits for a charger first come first served.

    What a driver weighs besides price and travel:

    * utility drivers: ``congestion_sensitivity x present / chargers``, the EVs present
      (charging, and queued with ``when_full="queue"``, so a queue takes it above 1) per
      charger; the driver takes the highest utility and, if that station is full, is
      blocked (``"block"``, the HERON case) or reroutes (``"reroute"``);
    * generalised drivers: with ``when_full="queue"``, the expected wait given the EVs
      present (:func:`~evprice.market.queueing.expected_wait_h`) at ``value_of_time_per_h``;
      with ``"block"`` a full station offers no wait. Drivers see occupancy, so a station
      with no free place (charger, or waiting space when queueing) is out of their choice
      set: they charge at the best station with a free place, or take the outside option,
      and are blocked only when every station they prefer to it is full (counted at the one
      they value most).

    Args:
        slot_depart_s: (B, N, C) slots at the start of the period (not modified).
        price: (B, N) posted prices.
        draws: the period's random inputs (noise (B, M, N + 1), energy, dwell, origin).
        event_s: (B, M) arrival time of each event (inf = padding).
        travel_time_h: (Z, N) or (B, Z, N) travel time from each origin zone to each station
            this period, or None (``travel_time_min`` of the config, or no travel).

    Returns:
        The :class:`Allocation`.
    """
    cfg = params.config
    b, m_max = event_s.shape
    n = params.n_stations
    depart = slot_depart_s.copy()  # (B, N, C) s
    station = np.zeros((b, m_max), dtype=np.intp)
    status = np.full((b, m_max), NO_EVENT, dtype=np.int8)
    slot = np.zeros((b, m_max), dtype=np.intp)
    start = np.array(event_s)
    gain = np.zeros((b, m_max))
    expected_wait = np.zeros((b, m_max))
    rows = np.arange(b)

    base, outside, travel_h = _event_utilities(params, price, draws, travel_time_h)
    generalised = cfg.driver_cost == "generalised"
    queue = cfg.when_full == "queue"
    # generalised drivers see occupancy: they choose among the stations with a free place
    reroute = cfg.when_full == "reroute" or generalised
    dwell_h = params.dwell_mean_s / SECONDS_PER_HOUR
    budget = cfg.time_budget_h
    may_exclude = budget is not None or travel_time_h is not None

    for m in range(m_max):
        t = event_s[:, m]
        occupied, present = held_chargers(params, depart, t)  # (B, N, C), (B, N)
        utility = base[:, m] + draws.choice_noise[:, m, :n]
        wait_h = None
        if generalised:
            if queue:
                wait_h = expected_wait_h(present, params.capacity, dwell_h, params.dwell_scv)
                utility = utility - cfg.value_of_time_per_h * wait_h
            if budget is not None:
                utility = np.where(travel_h[:, m] + (0.0 if wait_h is None else wait_h) > budget, -np.inf, utility)
        elif cfg.congestion_sensitivity:
            utility = utility - cfg.congestion_sensitivity * present / params.capacity
        outside_u = None if outside is None else outside[:, m] + draws.choice_noise[:, m, n]
        k, code = choose(utility, outside_u, present < params.places, reroute)
        gain[:, m] = utility[rows, k] - (0.0 if outside_u is None else outside_u)
        if wait_h is not None:
            expected_wait[:, m] = wait_h[rows, k]
        if may_exclude:  # every station unreachable or beyond the time budget: the driver gives up
            code = np.where(np.isfinite(utility).any(axis=1), code, GAVE_UP)
        code = np.where(np.isfinite(t), code, NO_EVENT)
        station[:, m] = k
        status[:, m] = code
        admit = np.flatnonzero(code == ADMITTED)
        if admit.size:
            ka = k[admit]
            first_free = occupied[admit, ka].argmin(axis=1)
            if queue:
                start[admit, m] = fcfs_start_s(depart[admit, ka], present[admit, ka], params.capacity[ka], t[admit])
            depart[admit, ka, first_free] = start[admit, m] + draws.dwell_s[admit, m]
            slot[admit, m] = first_free
    return Allocation(depart, station, status, slot, start, gain, expected_wait)


def advance_period(
    params: MarketParams,
    state: MarketState,
    price_per_kwh: np.ndarray,
    draws: PeriodDraws,
    travel_time_h: np.ndarray | None = None,
) -> tuple[MarketState, PeriodOutcome]:
    """Run one pricing period.

    Args:
        params: the market.
        state: state at the start of the period.
        price_per_kwh: (B, N) prices posted for the period, inside the price bounds.
        draws: the period's random inputs (:func:`evprice.market.draws.sample_period_draws`).
        travel_time_h: (Z, N) or (B, Z, N) travel time from each origin zone to each station
            during the period (e.g. shortest paths on a congested road network), or None.

    Returns:
        The state at the end of the period and what happened during it.
    """
    s, dt_s, n = params.substeps_per_period, float(params.dt_s), params.n_stations
    b = price_per_kwh.shape[0]
    cells = b * n  # flat (batch member, station) index b * N + k
    j0 = state.period * s
    edges_s = j0 * dt_s + params.dt_s * np.arange(params.substeps_per_period + 1, dtype=np.float64)  # (S + 1,)
    t0_s, t1_s = edges_s[0], edges_s[-1]
    price = np.array(price_per_kwh, dtype=np.float64)  # a copy: the caller's array stays the caller's
    kwh_per_s = params.power_kw / SECONDS_PER_HOUR  # (N,)

    # 1. public market signals of each sub-step: the hourly wholesale price
    elec = state.elec_price_per_kwh[:, params.substep_hour[j0 : j0 + s]]  # (B, S)

    # 2. arrivals, as events in time order
    event_s = t0_s + draws.arrival_offset_s  # (B, M), inf = padding

    # 3. allocation of each arrival to a station and a charger (after a wait, if queueing)
    alloc = _allocate(params, state.slot_depart_s, price, draws, event_s, travel_time_h)
    depart, station, status, slot, start = alloc.slot_depart_s, alloc.station, alloc.status, alloc.slot, alloc.start_s
    ab, am = np.nonzero(status == ADMITTED)  # the admitted events, (A,) each
    ak = station[ab, am]
    new_start_s = start[ab, am]
    new_depart_s = new_start_s + draws.dwell_s[ab, am]
    new_end_s = new_start_s + charging_duration_s(draws.energy_kwh[ab, am], draws.dwell_s[ab, am], params.power_kw[ak])
    new_price = price[ab, ak]
    slot_start = state.slot_start_s.copy()
    charge_end = state.slot_charge_end_s.copy()
    slot_price = state.slot_price_per_kwh.copy()
    slot_start[ab, ak, slot[ab, am]] = new_start_s
    charge_end[ab, ak, slot[ab, am]] = new_end_s
    slot_price[ab, ak, slot[ab, am]] = new_price

    # 4. sessions: every session that charges during the period (admitted before it and
    #    still to finish charging, or admitted during it) delivers P x its charging seconds
    #    in each sub-step; chargers are held from the start of charging to departure.
    ob, ok, oc = np.nonzero(state.slot_charge_end_s > t0_s)
    cell = np.concatenate([ob * n + ok, ab * n + ak])  # (A_old + A,)
    start_s = np.concatenate([np.maximum(state.slot_start_s[ob, ok, oc], t0_s), new_start_s])
    end_s = np.concatenate([state.slot_charge_end_s[ob, ok, oc], new_end_s])
    session_price = np.concatenate([state.slot_price_per_kwh[ob, ok, oc], new_price])
    kwh = window_overlap_s(start_s, end_s, edges_s) * kwh_per_s[cell % n, None]  # (A_old + A, S)
    sub_cell = (cell[:, None] * s + np.arange(s)).ravel()  # flat (b, k, sub-step) index
    energy_sub = np.bincount(sub_cell, weights=kwh.ravel(), minlength=cells * s).reshape(b, n, s)
    held_old_s = interval_overlap_s(state.slot_start_s, state.slot_depart_s, t0_s, t1_s)  # (B, N, C)
    held_old_s = np.where(params.slot_padding, 0.0, held_old_s).sum(axis=2)
    held_new_s = interval_overlap_s(new_start_s, new_depart_s, t0_s, t1_s)
    charger_seconds = held_old_s + _per_station(ab * n + ak, cells, held_new_s).reshape(b, n)

    # 5. revenue (locked price x energy), energy cost, fixed cost
    revenue_sub = np.bincount(sub_cell, weights=(kwh * session_price[:, None]).ravel(), minlength=cells * s).reshape(
        b, n, s
    )
    energy_cost_sub, fixed, revenue_ema, cost_ema = account_period(params, state, elec, energy_sub, revenue_sub)

    # 6. profit windows (in account_period) and 7. advance time
    new_state = MarketState(
        period=state.period + 1,
        price_per_kwh=price,
        slot_depart_s=depart,
        slot_start_s=slot_start,
        slot_charge_end_s=charge_end,
        slot_price_per_kwh=slot_price,
        revenue_ema_per_h=revenue_ema,
        cost_ema_per_h=cost_ema,
        elec_price_per_kwh=state.elec_price_per_kwh,
    )
    bb, bm = np.nonzero(status == BLOCKED)
    booked = _booked_profit(params, state.elec_price_per_kwh, ab, ak, new_start_s, new_end_s, new_price)
    surplus = _consumer_surplus(params, draws, alloc, event_s, ab, am, new_end_s, new_price)
    outcome = PeriodOutcome(
        price_per_kwh=price.copy(),  # not the state's array: outcomes go to users, who may edit them
        energy_kwh=energy_sub.sum(axis=2),
        energy_kwh_per_substep=energy_sub,
        revenue=revenue_sub.sum(axis=2),
        energy_cost=energy_cost_sub.sum(axis=2),
        fixed_cost=fixed,
        admitted=_per_station(ab * n + ak, cells).reshape(b, n),
        blocked=_per_station(bb * n + station[bb, bm], cells).reshape(b, n),
        utilization=charger_seconds / (params.capacity * (t1_s - t0_s)),
        arrivals=np.isfinite(draws.arrival_offset_s).sum(axis=1),
        gave_up=(status == GAVE_UP).sum(axis=1),
        waiting_h=(
            _per_station(ab * n + ak, cells, new_start_s - event_s[ab, am]).reshape(b, n) / SECONDS_PER_HOUR
            if params.config.when_full == "queue"
            else np.zeros((b, n))  # no queue, no wait
        ),
        booked_profit=_per_station(ab * n + ak, cells, booked).reshape(b, n) - fixed,
        consumer_surplus=np.bincount(ab, weights=surplus, minlength=b) if surplus is not None else np.full(b, np.nan),
    )
    return new_state, outcome


def _consumer_surplus(
    params: MarketParams,
    draws: PeriodDraws,
    alloc: Allocation,
    event_s: np.ndarray,
    ab: np.ndarray,
    am: np.ndarray,
    end_s: np.ndarray,
    price: np.ndarray,
) -> np.ndarray | None:
    """(A,) surplus of each admitted EV over the outside option, currency (see :mod:`evprice.market.welfare`).

    None when it is not defined: no outside option, or utility drivers with no price
    coefficient to value utility in money.
    """
    cfg = params.config
    generalised = cfg.driver_cost == "generalised"
    outside = cfg.outside_option_price_per_kwh if generalised else cfg.outside_option_utility
    if not surplus_defined(cfg.driver_cost, outside, cfg.price_sensitivity):
        return None
    energy = draws.energy_kwh[ab, am]
    start_s = alloc.start_s[ab, am]
    received = params.power_kw[alloc.station[ab, am]] * _booked_seconds(params, start_s, end_s) / SECONDS_PER_HOUR
    surplus = money_per_utility(cfg.driver_cost, cfg.price_sensitivity, energy) * alloc.gain[ab, am]
    surplus += price * (energy - received)
    if generalised and cfg.when_full == "queue":
        waited_h = (start_s - event_s[ab, am]) / SECONDS_PER_HOUR
        surplus += cfg.value_of_time_per_h * (alloc.expected_wait_h[ab, am] - waited_h)
    return surplus


def _booked_seconds(params: MarketParams, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
    """(A,) charging seconds of each session up to the horizon (a queued EV may start after it)."""
    end_s = np.minimum(end_s, float(params.horizon_s))
    return end_s - np.minimum(start_s, end_s)


def _booked_profit(
    params: MarketParams,
    elec_price_per_kwh: np.ndarray,
    batch: np.ndarray,
    station: np.ndarray,
    start_s: np.ndarray,
    end_s: np.ndarray,
    price: np.ndarray,
) -> np.ndarray:
    """(A,) whole-session profit of each admitted EV, counting charging up to the horizon.

    The EV pays its locked price for ``P (end - start)`` kWh and costs the wholesale price
    integrated over its charging interval (the hourly price may change during a long
    session), divided by the charging efficiency, plus the marginal cost per kWh.
    """
    if not len(batch):
        return np.zeros(0)
    end_s = np.minimum(end_s, float(params.horizon_s))
    start_s = np.minimum(start_s, end_s)  # a queued EV may start after the horizon
    kw = params.power_kw[station]
    kwh = kw * _booked_seconds(params, start_s, end_s) / SECONDS_PER_HOUR
    rows = elec_price_per_kwh[batch]
    g = price_integral(params, rows, np.stack([start_s, end_s], axis=1))
    wholesale = kw * (g[:, 1] - g[:, 0]) / SECONDS_PER_HOUR / params.config.charging_efficiency
    return kwh * (price - params.marginal_cost_per_kwh[station]) - wholesale


def sample_period_draws(
    params: MarketParams,
    period: int,
    batch_size: int,
    rngs: Mapping[str, np.random.Generator],
    session_sampler: SessionSampler | None = None,
) -> PeriodDraws:
    """Draw arrivals, choice noise and session needs for pricing period ``period``.

    Arrivals form a Poisson process whose rate is constant within each sub-step: a
    Poisson count per sub-step, each arrival uniform within its sub-step, sorted in time.
    Noise, dwell and energy are drawn only for real arrivals and laid out padded as
    (B, M, ...) with zeros after each batch member's last event. With a
    ``session_sampler`` each EV's energy and dwell come from it, jointly (its arrival
    time is not used: arrivals follow the market's hourly rates).
    """
    s = params.substeps_per_period
    j0 = period * s
    arrivals = rngs["arrivals"].poisson(params.expected_arrivals[j0 : j0 + s], size=(batch_size, s))
    count = arrivals.sum(axis=1)
    m = int(count.max()) if batch_size else 0
    total = int(count.sum())
    real = np.arange(m) < count[:, None]  # (B, M)
    cfg = params.config
    k = params.n_stations + 1
    offset = np.full((batch_size, m), np.inf)
    noise = np.zeros((batch_size, m, k))
    dwell_s = np.zeros((batch_size, m))
    energy_kwh = np.zeros((batch_size, m))
    origin = np.zeros((batch_size, m), dtype=np.intp)
    if total:  # (a draw of size 0 consumes nothing, so skipping it changes no stream)
        substep = np.repeat(np.tile(np.arange(s), batch_size), arrivals.ravel())
        offset[real] = (substep + rngs["arrivals"].random(total)) * params.dt_s
        sub = np.zeros((batch_size, m), dtype=np.intp)
        sub[real] = substep
        order = np.argsort(offset, axis=1, kind="stable")
        offset = np.take_along_axis(offset, order, axis=1)
        sub = np.take_along_axis(sub, order, axis=1)  # each sorted arrival's sub-step: its hour's origin shares
        choice = rngs["choice"]
        draw = choice.gumbel if cfg.noise == "gumbel" else choice.normal
        noise[real] = draw(0.0, cfg.noise_scale, size=(total, k))
        sessions = rngs["sessions"]
        if session_sampler is not None:
            drawn = session_sampler.sample(total, sessions)
            dwell_s[real] = np.asarray(drawn.dwell_h) * SECONDS_PER_HOUR
            energy_kwh[real] = drawn.energy_kwh
        else:
            dwell_s[real] = positive_draws(
                sessions, cfg.dwell_time_distribution, params.dwell_mean_s, cfg.dwell_time_cv, (total,)
            )
            energy_kwh[real] = positive_draws(
                sessions, cfg.energy_demand_distribution, params.energy_mean_kwh, cfg.energy_demand_cv, (total,)
            )
        if params.origin_cdf.shape[1] > 1:  # independent zones: Poisson thinning, by the hour's shares
            u = rngs["origins"].random(total)
            rows = params.origin_cdf[j0 + sub[real]]  # (total, Z)
            origin[real] = (u[:, None] >= rows).sum(axis=1)  # searchsorted(row, u, side="right") for each row
    return PeriodDraws(
        arrival_offset_s=offset, choice_noise=noise, dwell_s=dwell_s, energy_kwh=energy_kwh, origin=origin
    )
