"""The compiled world: one pricing period of the batched market, in numba.

This is the one implementation of the market's sampled dynamics (the seed's seven internal
steps, see :mod:`evprice.market.dynamics` for the model): the random draws of a period
(:func:`sample`) and the period itself (:func:`advance_serial`, :func:`advance_parallel`),
compiled with numba and cached on disk (``cache=True``), serving every batch size with the
same source:

* the draws are taken in the order the streams have always been consumed (Poisson counts
  of every member and sub-step, then arrival instants; utility noise; dwell times, then
  energies; origins), with numba's ports of numpy's distributions on the same bit
  generators, so every draw equals numpy's bit for bit;
* the period runs one batch member per loop iteration: serially for small batches, over
  numba's thread pool (``prange``) from :data:`PARALLEL_MIN_BATCH` members on;
* each member's arrivals are processed one at a time in time order, each driver seeing the
  EVs the drivers before it left at the stations; the sessions are accounted in closed
  form over the ``S`` sub-steps (a session's whole future is fixed when it is admitted).

The interpreted version it replaced survives only as a test oracle
(``tests/market/numpy_dynamics.py``), next to the per-sub-step reference simulator
(``tests/market/reference_sim.py``); the tests check all three agree to 1e-9.

Arrays in, arrays out: the kernels know nothing of configs. :func:`pack` turns a
:class:`~evprice.market.params.MarketParams` into the flat arrays they read (once per
environment, cached on the params).

Random streams reach compiled code as the addresses of their numpy bit generators
(:class:`StreamAddresses`); calling numba with ``numpy.random.Generator`` objects costs
about 5 microseconds each to unbox, more than a whole period at ``B = 1``.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from evprice.core.jit import CACHE

PARALLEL_MIN_BATCH = 128
"""Batches of at least this many members run over numba's thread pool; smaller ones run
serially. Starting the pool costs more than it saves for a few members, and next to a
trainer's torch threads the two pools compete. Measured on 2 cores, MAPPO on
`PublicCharging-v0` ran at 17.6k (pool) against 19.3k (serial) env-steps/s with 64
environments, level with 128, and at 41.7k against 35.2k with 256."""

# -- status codes of an arrival event (as in evprice.market.choice) ------------------------
ADMITTED, BLOCKED, GAVE_UP, NO_EVENT = 0, 1, 2, 3

# -- layout of the packed parameters --------------------------------------------------------
# rows of the (len(STATION_ROWS), N) float64 station table
STATION_ROWS = ("power_kw", "marginal_cost_per_kwh", "fixed_cost_per_h", "base_utility", "travel_time_h", "capacity")
POWER, MARGINAL, FIXED, BASE_UTILITY, TRAVEL_H, CAPACITY = range(len(STATION_ROWS))
# entries of the float64 scalar vector
SCALARS = (
    "dt_s",
    "horizon_s",
    "start_s",
    "price_sensitivity",
    "congestion_sensitivity",
    "travel_time_per_min",
    "outside_utility",
    "outside_price_per_kwh",
    "outside_time_h",
    "value_of_time_per_h",
    "travel_time_weight",
    "time_budget_h",
    "dwell_mean_h",
    "dwell_scv",
    "charging_efficiency",
    "ema_period_decay",
    "period_h",
    "noise_scale",
    "dwell_a",
    "dwell_b",
    "energy_a",
    "energy_b",
)
(
    DT_S,
    HORIZON_S,
    START_S,
    BETA,
    CONGESTION,
    TRAVEL_PER_MIN,
    OUTSIDE_UTILITY,
    OUTSIDE_PRICE,
    OUTSIDE_TIME_H,
    VOT_PER_H,
    TRAVEL_WEIGHT,
    BUDGET_H,
    DWELL_MEAN_H,
    DWELL_SCV,
    EFFICIENCY,
    EMA_DECAY,
    PERIOD_H,
    NOISE_SCALE,
    DWELL_A,
    DWELL_B,
    ENERGY_A,
    ENERGY_B,
) = range(len(SCALARS))
# entries of the int64 flag vector
FLAGS = (
    "substeps",
    "first_hour",
    "n_hours",
    "generalised",
    "queue",
    "reroute",
    "has_outside",
    "has_budget",
    "surplus_defined",
    "normal_noise",
    "dwell_kind",
    "energy_kind",
)
SUBSTEPS, FIRST_HOUR, N_HOURS, GENERALISED, QUEUE, REROUTE, HAS_OUTSIDE, HAS_BUDGET, SURPLUS, NORMAL_NOISE = range(10)
DWELL_KIND, ENERGY_KIND = 10, 11
FIXED_VALUE, GAMMA, LOGNORMAL = 0, 1, 2
"""Kinds of a session quantity's distribution: ``a`` is the value, the shape, or ``mu``;
``b`` is unused, the scale, or ``sigma``."""


@dataclass(frozen=True)
class Packed:
    """A market's parameters as the kernels read them (see :func:`pack`)."""

    station: np.ndarray  # (len(STATION_ROWS), N) float64
    capacity: np.ndarray  # (N,) int64 chargers
    places: np.ndarray  # (N,) int64 chargers (+ waiting spaces when queueing)
    scalars: np.ndarray  # (len(SCALARS),) float64
    flags: np.ndarray  # (len(FLAGS),) int64
    ema_weights_per_h: np.ndarray  # (S,)
    expected_arrivals: np.ndarray  # (J,) market-wide arrivals expected in each sub-step
    substep_hour: np.ndarray  # (J,) int64 index into the episode's hourly series
    origin_cdf: np.ndarray  # (Z,)
    no_travel: np.ndarray  # (1, 1, N) the config's travel times, for periods without a road network

    @property
    def kernel_params(self) -> tuple:
        """The ``par`` tuple the period kernels take."""
        return (
            self.station,
            self.capacity,
            self.places,
            self.scalars,
            self.flags,
            self.ema_weights_per_h,
            self.expected_arrivals,
            self.origin_cdf,
        )


def _session_law(distribution: str, mean: float, cv: float) -> tuple[int, float, float]:
    """``(kind, a, b)`` of a session quantity, computed as numpy's ``positive_draws`` does."""
    if cv == 0.0:
        return FIXED_VALUE, float(mean), 0.0
    if distribution == "gamma":
        shape = 1.0 / (cv * cv)
        return GAMMA, shape, mean / shape
    sigma2 = np.log1p(cv * cv)
    return LOGNORMAL, float(np.log(mean) - 0.5 * sigma2), float(np.sqrt(sigma2))


def pack(params) -> Packed:
    """The flat arrays of ``params`` (a :class:`~evprice.market.params.MarketParams`)."""
    cfg = params.config
    generalised = cfg.driver_cost == "generalised"
    outside = cfg.outside_option_price_per_kwh if generalised else cfg.outside_option_utility
    from evprice.market.welfare import surplus_defined  # a leaf of the market layer

    station = np.stack(
        [
            params.power_kw,
            params.marginal_cost_per_kwh,
            params.fixed_cost_per_h,
            params.base_utility,
            params.travel_time_h,
            params.capacity.astype(np.float64),
        ]
    )
    dwell = _session_law(cfg.dwell_time_distribution, params.dwell_mean_s, cfg.dwell_time_cv)
    energy = _session_law(cfg.energy_demand_distribution, params.energy_mean_kwh, cfg.energy_demand_cv)
    scalars = np.zeros(len(SCALARS))
    scalars[[DT_S, HORIZON_S, START_S]] = params.dt_s, params.horizon_s, params.start_s
    scalars[BETA] = cfg.price_sensitivity
    scalars[CONGESTION] = cfg.congestion_sensitivity
    scalars[TRAVEL_PER_MIN] = cfg.travel_time_sensitivity * 60.0
    scalars[OUTSIDE_UTILITY] = cfg.outside_option_utility if cfg.outside_option_utility is not None else 0.0
    scalars[OUTSIDE_PRICE] = cfg.outside_option_price_per_kwh if cfg.outside_option_price_per_kwh is not None else 0.0
    scalars[OUTSIDE_TIME_H] = cfg.outside_option_time_h
    scalars[VOT_PER_H] = cfg.value_of_time_per_h
    scalars[TRAVEL_WEIGHT] = cfg.travel_time_weight
    scalars[BUDGET_H] = cfg.time_budget_h if cfg.time_budget_h is not None else 0.0
    scalars[DWELL_MEAN_H] = params.dwell_mean_s / 3600.0
    scalars[DWELL_SCV] = params.dwell_scv
    scalars[EFFICIENCY] = cfg.charging_efficiency
    scalars[EMA_DECAY] = params.ema_period_decay
    scalars[PERIOD_H] = cfg.action_period_s / 3600.0
    scalars[NOISE_SCALE] = cfg.noise_scale
    scalars[[DWELL_A, DWELL_B, ENERGY_A, ENERGY_B]] = dwell[1], dwell[2], energy[1], energy[2]
    flags = np.zeros(len(FLAGS), dtype=np.int64)
    flags[SUBSTEPS], flags[FIRST_HOUR], flags[N_HOURS] = params.substeps_per_period, params.first_hour, params.n_hours
    flags[GENERALISED] = generalised
    flags[QUEUE] = cfg.when_full == "queue"
    flags[REROUTE] = cfg.when_full == "reroute" or generalised  # generalised drivers see occupancy
    flags[HAS_OUTSIDE] = outside is not None
    flags[HAS_BUDGET] = cfg.time_budget_h is not None
    flags[SURPLUS] = surplus_defined(cfg.driver_cost, outside, cfg.price_sensitivity)
    flags[NORMAL_NOISE] = cfg.noise == "normal"
    flags[DWELL_KIND], flags[ENERGY_KIND] = dwell[0], energy[0]
    return Packed(
        station=np.ascontiguousarray(station, dtype=np.float64),
        capacity=np.ascontiguousarray(params.capacity, dtype=np.int64),
        places=np.ascontiguousarray(params.places, dtype=np.int64),
        scalars=scalars,
        flags=flags,
        ema_weights_per_h=np.ascontiguousarray(params.ema_rate_weights_per_h, dtype=np.float64),
        expected_arrivals=np.ascontiguousarray(params.expected_arrivals, dtype=np.float64),
        substep_hour=np.ascontiguousarray(params.substep_hour, dtype=np.int64),
        origin_cdf=np.ascontiguousarray(params.origin_cdf, dtype=np.float64),
        no_travel=np.ascontiguousarray(params.travel_time_h, dtype=np.float64).reshape(1, 1, -1),
    )


# -- random streams -------------------------------------------------------------------------
DRAW_STREAMS = ("arrivals", "choice", "sessions", "origins")
"""The streams a period draws from, in the rows of :attr:`StreamAddresses.table`."""
ARRIVALS, CHOICE, SESSIONS, ORIGINS = range(len(DRAW_STREAMS))


class StreamAddresses(Mapping):
    """Named ``numpy.random.Generator`` streams, with the addresses compiled code calls them by.

    A read-only mapping of the generators it was built from (so it goes wherever a dict of
    streams goes). It holds them, so the addresses stay valid as long as it lives, and a
    compiled draw advances the very state numpy's methods advance. ``table`` is
    (len(DRAW_STREAMS), 5) uint64: for each of :data:`DRAW_STREAMS`, the state, the
    ``next_uint64``, ``next_uint32`` and ``next_double`` functions, and the bit generator.
    """

    def __init__(self, generators: Mapping[str, np.random.Generator]) -> None:
        self._generators = dict(generators)
        rows = []
        for name in DRAW_STREAMS:
            c = self._generators[name].bit_generator.ctypes
            rows.append(
                [
                    c.state_address,
                    ctypes.cast(c.next_uint64, ctypes.c_void_p).value,
                    ctypes.cast(c.next_uint32, ctypes.c_void_p).value,
                    ctypes.cast(c.next_double, ctypes.c_void_p).value,
                    c.bit_generator.value,
                ]
            )
        self.table = np.array(rows, dtype=np.uint64)

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._generators[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._generators)

    def __len__(self) -> int:
        return len(self._generators)

    def __reduce__(self):
        # copies and pickles rebuild the table from their own generators: a copied table would
        # point at (and advance) the original's
        return (type(self), (self._generators,))

    @classmethod
    def of(cls, streams: Mapping[str, np.random.Generator]) -> StreamAddresses:
        """``streams`` itself if it is one, else a new one over the same generators."""
        return streams if isinstance(streams, cls) else cls(streams)


@intrinsic
def _generator_at(typingctx, table, row):
    """A ``numpy.random.Generator`` value over the bit generator at ``table[row]`` (no Python object)."""
    gen_type = types.NumPyRandomGeneratorType("Generator")
    sig = gen_type(table, row)

    def codegen(context, builder, signature, args):
        table_value, row_value = args
        arr = context.make_array(signature.args[0])(context, builder, table_value)

        def entry(col: int):
            ptr = cgutils.get_item_pointer2(
                context,
                builder,
                arr.data,
                cgutils.unpack_tuple(builder, arr.shape, 2),
                cgutils.unpack_tuple(builder, arr.strides, 2),
                "C",
                [row_value, ir.Constant(ir.IntType(64), col)],
            )
            return builder.load(ptr)

        bit_gen = cgutils.create_struct_proxy(types.NumPyRandomBitGeneratorType("bit_generator"))(context, builder)
        bit_gen.parent = cgutils.get_null_value(context.get_value_type(types.pyobject))
        bit_gen.state_address = entry(0)
        bit_gen.state = entry(0)
        bit_gen.fnptr_next_uint64 = entry(1)
        bit_gen.fnptr_next_uint32 = entry(2)
        bit_gen.fnptr_next_double = entry(3)
        bit_gen.bit_generator = entry(4)
        gen = cgutils.create_struct_proxy(gen_type)(context, builder)
        gen.bit_generator = bit_gen._getvalue()
        gen.meminfo = cgutils.get_null_value(gen.meminfo.type)
        gen.parent = cgutils.get_null_value(context.get_value_type(types.pyobject))
        return gen._getvalue()

    return sig, codegen


@njit(cache=CACHE)
def _gumbel(rng, scale):
    """One Gumbel(0, scale) variate, as numpy's ``Generator.gumbel`` draws it."""
    while True:
        u = 1.0 - rng.random()
        if u < 1.0:
            return 0.0 - scale * math.log(-math.log(u))


@njit(cache=CACHE)
def _poisson(rng, lam, e_minus_lam):
    """One Poisson(lam) count, as numpy's ``Generator.poisson`` draws it, given ``exp(-lam)``.

    Below a mean of 10 numpy multiplies uniforms until the product falls to ``exp(-lam)``;
    computing that once per sub-step instead of once per draw is the saving.
    """
    if lam >= 10.0:
        return rng.poisson(lam)
    if lam == 0.0:
        return 0
    count = 0
    product = 1.0
    while True:
        product *= rng.random()
        if product > e_minus_lam:
            count += 1
        else:
            return count


@njit(cache=CACHE)
def _session_value(rng, kind, a, b):
    if kind == FIXED_VALUE:
        return a
    if kind == GAMMA:
        return rng.gamma(a, b)
    return rng.lognormal(a, b)


@njit(cache=CACHE)
def sample(streams, period, batch, n_stations, scalars, flags, expected_arrivals, origin_cdf, draw_sessions):
    """The random inputs of pricing period ``period`` for ``batch`` members, as
    :func:`evprice.market.draws.sample_period_draws` lays them out (offsets, noise, dwell,
    energy, origin); with ``draw_sessions`` False the dwell and energy stay zero."""
    s = flags[SUBSTEPS]
    j0 = period * s
    dt = scalars[DT_S]
    arrivals = _generator_at(streams, ARRIVALS)
    counts = np.zeros((batch, s), dtype=np.int64)
    per_member = np.zeros(batch, dtype=np.int64)
    lam = expected_arrivals[j0 : j0 + s]
    e_minus_lam = np.empty(s)
    for j in range(s):  # scalar exp, as numpy's C computes it (a vectorised exp may differ in the last bit)
        e_minus_lam[j] = math.exp(-lam[j])
    for b in range(batch):
        for j in range(s):
            counts[b, j] = _poisson(arrivals, lam[j], e_minus_lam[j])
            per_member[b] += counts[b, j]
    m = 0
    for b in range(batch):
        m = max(m, per_member[b])
    k = n_stations + 1
    offset = np.full((batch, m), np.inf)
    noise = np.zeros((batch, m, k))
    dwell = np.zeros((batch, m))
    energy = np.zeros((batch, m))
    origin = np.zeros((batch, m), dtype=np.int64)
    for b in range(batch):
        i = 0
        row = offset[b]
        for j in range(s):
            for _ in range(counts[b, j]):
                x = (j + arrivals.random()) * dt
                at = i  # insertion sort: a member has a handful of arrivals, and no allocation
                while at > 0 and row[at - 1] > x:
                    row[at] = row[at - 1]
                    at -= 1
                row[at] = x
                i += 1
    choice = _generator_at(streams, CHOICE)
    scale = scalars[NOISE_SCALE]
    for b in range(batch):
        for i in range(per_member[b]):
            for c in range(k):
                noise[b, i, c] = choice.normal(0.0, scale) if flags[NORMAL_NOISE] else _gumbel(choice, scale)
    if draw_sessions:
        sessions = _generator_at(streams, SESSIONS)
        for b in range(batch):
            for i in range(per_member[b]):
                dwell[b, i] = _session_value(sessions, flags[DWELL_KIND], scalars[DWELL_A], scalars[DWELL_B])
        for b in range(batch):
            for i in range(per_member[b]):
                energy[b, i] = _session_value(sessions, flags[ENERGY_KIND], scalars[ENERGY_A], scalars[ENERGY_B])
    if origin_cdf.shape[0] > 1:  # independent zones: Poisson thinning of the market's arrivals
        origins = _generator_at(streams, ORIGINS)
        for b in range(batch):
            for i in range(per_member[b]):
                origin[b, i] = np.searchsorted(origin_cdf, origins.random(), side="right")
    return offset, noise, dwell, energy, origin


# -- one batch member's period -------------------------------------------------------------
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
