"""Compiled kernels are cached on disk, or compiled uncached with a warning where they cannot be."""

import importlib

import numba
import pytest

import evprice.core.jit as jit


def test_kernels_are_cached_here():
    assert jit.CACHE is True


def test_without_a_writable_cache_folder_kernels_compile_uncached_with_a_warning(monkeypatch):
    real = numba.njit

    def refusing(*args, **kwargs):  # what numba does when no cache folder can be written
        if kwargs.get("cache"):
            raise RuntimeError("cannot cache function '_probe': no locator available for file 'jit.py'")
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", refusing)
    try:
        with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR"):
            assert importlib.reload(jit).CACHE is False
    finally:
        monkeypatch.undo()
        importlib.reload(jit)
    assert jit.CACHE is True


def _child_steps(queue) -> None:  # runs in a forked process
    import numpy as np

    import evprice
    from evprice.core.jit import use_thread_pool
    from evprice.grid.feeders import case33bw
    from evprice.grid.powerflow import FastRadialSolver
    from evprice.market.kernel import PARALLEL_MIN_BATCH

    vec = evprice.make_vec("PublicCharging-v0", PARALLEL_MIN_BATCH)
    vec.reset(seed=1)
    vec.step(np.zeros((PARALLEL_MIN_BATCH, vec.n_agents, 1)))
    f = case33bw()
    FastRadialSolver(f).solve(np.tile(f.load_p_mw, (100, 1)), np.tile(f.load_q_mvar, (100, 1)))
    queue.put(use_thread_pool(10**6, 1))


def test_a_process_forked_after_the_thread_pool_ran_steps_without_it():
    """GNU OpenMP hangs a forked child that enters the pool its parent used: children run serially."""
    import multiprocessing

    import numpy as np

    import evprice
    from evprice.market.kernel import PARALLEL_MIN_BATCH

    assert jit.use_thread_pool(PARALLEL_MIN_BATCH, PARALLEL_MIN_BATCH)
    assert not jit.use_thread_pool(PARALLEL_MIN_BATCH - 1, PARALLEL_MIN_BATCH)
    vec = evprice.make_vec("PublicCharging-v0", PARALLEL_MIN_BATCH)  # the parent starts the pool
    vec.reset(seed=0)
    vec.step(np.zeros((PARALLEL_MIN_BATCH, vec.n_agents, 1)))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_steps, args=(queue,))
    child.start()
    child.join(timeout=120)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung in numba's thread pool")
    assert child.exitcode == 0
    assert queue.get(timeout=5) is False  # the child was told not to use the pool
