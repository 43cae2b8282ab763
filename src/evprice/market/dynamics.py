"""The world's dynamics: one pricing period of the batched market, as a pure function.

Each internal step ``dt`` of the seed's section 6 executes, in order:

1. update public market signals (wholesale price, time of day);
2. sample EV arrivals;
3. allocate EVs to stations;
4. update charging sessions and departures;
5. compute revenue, cost and profit;
6. update profit windows (EMAs);
7. advance time.

:func:`advance_period` runs the ``S = action_period_s / dt_s`` internal steps of one
pricing period with the prices held constant. It evaluates each stage for all ``S``
sub-steps at once instead of looping over them, which gives exactly the numbers of the
sub-step loop because of two facts of the model:

* a session's whole future is fixed when its EV is admitted: it gets a charger at ``t_s``
  (its arrival ``t_a``, or with ``when_full="queue"`` the first-come-first-served start
  after the EVs ahead of it), charges during ``[t_s, t_s + min(E/P, D))`` and holds the
  charger until ``t_s + D``; so the EVs an arrival meets in stage 3 (every departure
  before its arrival instant included) are read off the slots directly;
* stages 4 to 6 are sums and a linear recursion over sub-steps, which have closed forms.

Arrivals and departures happen at exact instants inside a sub-step, so each station is
an exact continuous-time loss system (or FCFS queue with a finite waiting room) whatever
``dt`` is; ``dt`` sets the resolution of the
accounting only. Stage 3 is the one sequential part: arrivals are processed one at a time
in time order, so each driver sees the chargers taken by the drivers before it.

The period runs compiled (:mod:`evprice.market.kernel`, one batch member per loop
iteration, over numba's thread pool for large batches); this module is its Python face:
it checks nothing the environments have not checked, calls the kernel and wraps its arrays
in :class:`~evprice.market.state.MarketState` and :class:`~evprice.market.state.PeriodOutcome`.

``tests/market/reference_sim.py`` re-implements the seven stages as a plain per-sub-step,
per-EV loop, and ``tests/market/numpy_dynamics.py`` keeps the vectorised numpy version the
kernel replaced; the tests check all three give the same numbers on the same random draws.
"""

from __future__ import annotations

import numpy as np

from evprice.core.jit import use_thread_pool
from evprice.market import kernel
from evprice.market.economics import ema_after_period, energy_cost, unit_energy_cost
from evprice.market.params import NO_SLOT, MarketParams
from evprice.market.profiles import SECONDS_PER_HOUR
from evprice.market.state import MarketState, PeriodDraws, PeriodOutcome


def initial_state(params: MarketParams, elec_price_per_kwh: np.ndarray) -> MarketState:
    """Empty stations at the start of an episode, prices at the middle of their bounds.

    Args:
        elec_price_per_kwh: (B, H) the episode's hourly wholesale price.
    """
    b = elec_price_per_kwh.shape[0]
    n, c = params.n_stations, params.n_slots
    depart = np.where(params.slot_padding, NO_SLOT, 0.0)
    return MarketState(
        period=0,
        price_per_kwh=np.broadcast_to(0.5 * (params.price_min + params.price_max), (b, n)).copy(),
        slot_depart_s=np.broadcast_to(depart, (b, n, c)).copy(),
        slot_start_s=np.zeros((b, n, c)),
        slot_charge_end_s=np.zeros((b, n, c)),
        slot_price_per_kwh=np.zeros((b, n, c)),
        revenue_ema_per_h=np.zeros((b, n)),
        cost_ema_per_h=np.zeros((b, n)),
        elec_price_per_kwh=np.asarray(elec_price_per_kwh, dtype=np.float64),
    )


def held_chargers(
    params: MarketParams, slot_depart_s: np.ndarray, t_s: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Which slots hold an EV at ``t_s`` (scalar or (B,)), and how many EVs each station holds.

    Returns ``(held (B, N, C) bool, present (B, N) int)``: EVs present, charging or (with
    ``when_full="queue"``) queued; padding slots are ``held`` (never free) but not counted.
    Under first-come-first-served ``min(present, capacity)`` of them are charging.
    """
    t = np.asarray(t_s, dtype=np.float64)
    held = slot_depart_s > (t.reshape(t.shape + (1, 1)) if t.ndim else t)
    return held, held.sum(axis=2) - params.slot_padding.sum(axis=1)


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
    floats = (draws.arrival_offset_s, draws.choice_noise, draws.dwell_s, draws.energy_kwh)
    origin = np.ascontiguousarray(draws.origin, dtype=np.int64)
    events = (*(np.ascontiguousarray(a, dtype=np.float64) for a in floats), origin)
    return _run(params, state, price_per_kwh, events, travel_time_h, None)


def run_period(
    params: MarketParams,
    state: MarketState,
    price_per_kwh: np.ndarray,
    streams: kernel.StreamAddresses,
    travel_time_h: np.ndarray | None = None,
) -> tuple[MarketState, PeriodOutcome]:
    """Draw the period's random inputs from ``streams`` and run it, in one compiled call.

    The same numbers as ``advance_period(params, state, price_per_kwh,
    sample_period_draws(params, state.period, B, streams), travel_time_h)``, for markets
    whose sessions come from the config's distributions (no session sampler).
    """
    return _run(params, state, price_per_kwh, _NO_EVENTS, travel_time_h, streams)


_F64 = np.dtype(np.float64)


def _c(a: np.ndarray) -> np.ndarray:
    """``a`` as a C-ordered float64 array, a copy only if it is not one already."""
    return np.ascontiguousarray(a, dtype=_F64)


_NO_STREAMS = np.zeros((len(kernel.DRAW_STREAMS), 5), dtype=np.uint64)
_NO_EVENTS = (np.empty((0, 0)), np.empty((0, 0, 0)), np.empty((0, 0)), np.empty((0, 0)), np.empty((0, 0), np.int64))


def _run(
    params: MarketParams,
    state: MarketState,
    price_per_kwh: np.ndarray,
    events: tuple,
    travel_time_h: np.ndarray | None,
    streams: kernel.StreamAddresses | None,
) -> tuple[MarketState, PeriodOutcome]:
    packed = params.packed
    price = np.array(price_per_kwh, dtype=np.float64, order="C")  # a copy: the caller's array stays the caller's
    if travel_time_h is None:
        travel, zones = packed.no_travel, False
    else:
        travel = np.asarray(travel_time_h, dtype=np.float64)
        travel, zones = np.ascontiguousarray(travel if travel.ndim == 3 else travel[None]), True
    pool = use_thread_pool(price.shape[0], kernel.PARALLEL_MIN_BATCH)
    run = kernel.advance_parallel if pool else kernel.advance_serial
    out = run(
        state.period,
        price,
        (  # no copies: the kernel's own outputs already are C-ordered float64
            _c(state.slot_depart_s),
            _c(state.slot_start_s),
            _c(state.slot_charge_end_s),
            _c(state.slot_price_per_kwh),
            _c(state.revenue_ema_per_h),
            _c(state.cost_ema_per_h),
            _c(state.elec_price_per_kwh),
        ),
        events,
        travel,
        zones,
        packed.kernel_params,
        packed.substep_hour,
        _NO_STREAMS if streams is None else streams.table,
        streams is not None,
    )
    return _wrap(state, price, out)


def _wrap(state: MarketState, price: np.ndarray, blocks: tuple) -> tuple[MarketState, PeriodOutcome]:
    """The kernel's output blocks (:data:`~evprice.market.kernel.OUTPUT_BLOCKS`) as the next
    state and the period's outcome: views of the blocks, no copies."""
    slots, rows, substeps, counts, member_counts, member_values = blocks
    depart, start, charge_end, slot_price = slots
    revenue_ema, cost_ema, energy_cost, utilization, waiting_h, booked_profit, energy, revenue, fixed = rows
    energy_sub = substeps[0]
    admitted, blocked = counts
    arrivals, gave_up = member_counts
    surplus = member_values[0]
    new_state = MarketState(
        period=state.period + 1,
        price_per_kwh=price,
        slot_depart_s=depart,
        slot_start_s=start,
        slot_charge_end_s=charge_end,
        slot_price_per_kwh=slot_price,
        revenue_ema_per_h=revenue_ema,
        cost_ema_per_h=cost_ema,
        elec_price_per_kwh=state.elec_price_per_kwh,
    )
    outcome = PeriodOutcome(
        price_per_kwh=price.copy(),  # not the state's array: outcomes go to users, who may edit them
        energy_kwh=energy,
        energy_kwh_per_substep=energy_sub,
        revenue=revenue,
        energy_cost=energy_cost,
        fixed_cost=fixed,
        admitted=admitted,
        blocked=blocked,
        utilization=utilization,
        arrivals=arrivals,
        gave_up=gave_up,
        waiting_h=waiting_h,
        booked_profit=booked_profit,
        consumer_surplus=surplus,
    )
    return new_state, outcome


def account_period(
    params: MarketParams,
    state: MarketState,
    elec_price_per_kwh: np.ndarray,
    energy_sub: np.ndarray,
    revenue_sub: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Costs (stage 5) and profit windows (stage 6) from each sub-step's energy and revenue.

    Shared by both demand modes.

    Args:
        elec_price_per_kwh: (B, S) wholesale price of each sub-step.
        energy_sub, revenue_sub: (B, N, S) energy delivered and revenue of each sub-step.

    Returns:
        ``energy_cost_sub (B, N, S)``, ``fixed_cost (B, N)`` of the period, and the revenue
        and cost EMAs (B, N) after it.
    """
    energy_cost_sub = energy_cost(energy_sub, unit_energy_cost(params, elec_price_per_kwh))
    period_h = params.config.action_period_s / SECONDS_PER_HOUR
    fixed = np.broadcast_to(params.fixed_cost_per_h * period_h, energy_sub.shape[:2]).copy()
    # the S sub-step EMA updates in closed form (the fixed cost is the same every sub-step)
    decay, weights = params.ema_period_decay, params.ema_rate_weights_per_h
    revenue_ema = ema_after_period(state.revenue_ema_per_h, revenue_sub, decay, weights)
    cost_ema = ema_after_period(state.cost_ema_per_h, energy_cost_sub, decay, weights)
    cost_ema += params.fixed_cost_per_h * (1.0 - decay)
    return energy_cost_sub, fixed, revenue_ema, cost_ema


def leader_prices(
    posted_per_kwh: np.ndarray, committed_per_kwh: np.ndarray, leader: int
) -> tuple[np.ndarray, np.ndarray]:
    """The Stackelberg move order: the leader's price is the one it committed a period earlier.

    Args:
        posted_per_kwh: (B, N) the prices the stations' actions post this period.
        committed_per_kwh: (B,) the leader's price committed for this period, announced
            before the followers chose theirs.
        leader: 0-based index of the leader.

    Returns:
        ``(price_in_force (B, N), next_commitment (B,))``: the followers' posted prices with
        the leader's replaced by its commitment; the leader's posted price, which holds in
        the next period.
    """
    in_force = np.array(posted_per_kwh, dtype=np.float64)
    next_commitment = in_force[:, leader].copy()
    in_force[:, leader] = committed_per_kwh
    return in_force, next_commitment
