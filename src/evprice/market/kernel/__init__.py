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

The package: :mod:`~evprice.market.kernel.layout` (the packed parameters and :func:`pack`),
:mod:`~evprice.market.kernel.draws` (the streams' addresses and :func:`sample`),
:mod:`~evprice.market.kernel.choice` (one driver's choice) and
:mod:`~evprice.market.kernel.period` (the period and the features' state values); the names
the market uses are importable from here.

Arrays in, arrays out: the kernels know nothing of configs. :func:`pack` turns a
:class:`~evprice.market.params.MarketParams` into the flat arrays they read (once per
environment, cached on the params).

Random streams reach compiled code as the addresses of their numpy bit generators
(:class:`StreamAddresses`); calling numba with ``numpy.random.Generator`` objects costs
about 5 microseconds each to unbox, more than a whole period at ``B = 1``.
"""

from evprice.market.kernel.choice import choose
from evprice.market.kernel.draws import DRAW_STREAMS, StreamAddresses, sample
from evprice.market.kernel.layout import ADMITTED, BLOCKED, GAVE_UP, NO_EVENT, Packed, pack
from evprice.market.kernel.period import (
    OUTPUT_BLOCKS,
    PARALLEL_MIN_BATCH,
    STATION_OUTPUTS,
    advance_parallel,
    advance_serial,
    fcfs_start_s,
    state_values,
)

__all__ = [
    "ADMITTED",
    "BLOCKED",
    "DRAW_STREAMS",
    "GAVE_UP",
    "NO_EVENT",
    "OUTPUT_BLOCKS",
    "PARALLEL_MIN_BATCH",
    "STATION_OUTPUTS",
    "Packed",
    "StreamAddresses",
    "advance_parallel",
    "advance_serial",
    "choose",
    "fcfs_start_s",
    "pack",
    "sample",
    "state_values",
]
