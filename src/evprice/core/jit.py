"""The numba settings every compiled kernel of evprice shares.

**Thread pool and fork.** Large batches run over numba's thread pool (OpenMP). GNU OpenMP
does not survive ``fork``: a child forked after its parent used the pool hangs the first
time it enters the pool itself (Python's ``multiprocessing`` forks by default on Linux).
So a forked process never uses the pool: :func:`use_thread_pool` is False there, and its
kernels run serially. Processes started fresh (``spawn``, Ray workers) use it as usual.

Kernels are compiled on first use and cached on disk (``cache=True``), so that later
processes load them in a fraction of a second. Numba keeps the cache beside the package, or
in the user's cache folder when the package's folder is read-only, or in
``NUMBA_CACHE_DIR``. Where none of them can be written, numba refuses ``cache=True`` when a
kernel is defined. The kernels are then compiled without a cache, in every process, and
:data:`CACHE` says so, with a warning that names the fix.
"""

from __future__ import annotations

import os
import warnings

import numba

_forked = False


def _after_fork_in_child() -> None:
    global _forked
    _forked = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def use_thread_pool(batch: int, min_batch: int) -> bool:
    """Whether a kernel over ``batch`` members should run on numba's thread pool: at least
    ``min_batch`` of them, and not in a forked process (see the module docstring)."""
    return batch >= min_batch and not _forked


def _probe(x):  # pragma: no cover - compiled only if a process ever calls it
    return x


def _can_cache() -> bool:
    """Whether numba finds a writable cache folder for this package's kernels."""
    try:
        numba.njit(cache=True)(_probe)  # the cache folder is resolved when the kernel is defined
    except RuntimeError:
        return False
    return True


CACHE = _can_cache()
"""True when compiled kernels are cached on disk (the usual case)."""

if not CACHE:
    warnings.warn(
        "numba cannot cache evprice's compiled kernels (no writable cache folder): every process "
        "compiles them again, about 10 s each; set NUMBA_CACHE_DIR to a writable folder",
        RuntimeWarning,
        stacklevel=2,
    )
