"""A period's random draws, compiled: the streams' addresses (:class:`StreamAddresses`) and
:func:`sample`, which draws as numpy's distributions do on the same bit generators, bit for
bit."""

from __future__ import annotations

import ctypes
import math
from collections.abc import Iterator, Mapping

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from evprice.core.jit import CACHE
from evprice.market.kernel.layout import (
    DT_S,
    DWELL_A,
    DWELL_B,
    DWELL_KIND,
    ENERGY_A,
    ENERGY_B,
    ENERGY_KIND,
    FIXED_VALUE,
    GAMMA,
    NOISE_SCALE,
    NORMAL_NOISE,
    SUBSTEPS,
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
    energy, origin); with ``draw_sessions`` False the dwell and energy stay zero.
    ``origin_cdf`` (J, Z): the cumulative origin shares of each sub-step of the episode (its
    hour's row); an arrival's origin is drawn on its own sub-step's row."""
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
    zones = origin_cdf.shape[1] > 1
    substep = np.zeros((batch, m) if zones else (1, 1), dtype=np.int64)  # each sorted arrival's sub-step (zones)
    for b in range(batch):
        i = 0
        row = offset[b]
        sub = substep[b if zones else 0]
        for j in range(s):
            for _ in range(counts[b, j]):
                x = (j + arrivals.random()) * dt
                at = i  # insertion sort: a member has a handful of arrivals, and no allocation
                while at > 0 and row[at - 1] > x:
                    row[at] = row[at - 1]
                    if zones:
                        sub[at] = sub[at - 1]
                    at -= 1
                row[at] = x
                if zones:
                    sub[at] = j
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
    if zones:  # independent zones: Poisson thinning of the market's arrivals, by each arrival's hour's shares
        origins = _generator_at(streams, ORIGINS)
        for b in range(batch):
            for i in range(per_member[b]):
                origin[b, i] = np.searchsorted(origin_cdf[j0 + substep[b, i]], origins.random(), side="right")
    return offset, noise, dwell, energy, origin


# -- one batch member's period -------------------------------------------------------------
