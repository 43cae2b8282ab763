"""Run an experiment's independent tasks (its arms) one after another, in local processes,
or as Ray tasks on a cluster, with the same results.

``run_tasks(fn, tasks, workers=1, address=None)`` returns ``[fn(**task) for task in tasks]``
in the order of ``tasks``, whichever way they ran:

* ``workers=1``, no ``address``: in this process, one after another;
* ``workers=N``: ``N`` spawned local processes (``concurrent.futures``);
* ``address="auto"`` / ``"HOST:PORT"`` / ``"ray://HOST:PORT"``: Ray tasks on that cluster
  (``ray.init(address=...)``; a Ray session already open in this process is used as it is).
  Every node needs evprice installed, and the run folders a task writes land on the node
  that ran it: give ``--out`` a folder the nodes share to keep them beside the report.

Each task sets ``torch_threads`` itself (an argument of ``fn``; the experiments fix it to
one per arm), so a task computes the same numbers wherever it runs: float sums round
differently with another thread count, never with another way of spreading the tasks.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from evprice.core.config import ConfigError

RAY_EXTRA = "distributed"


def check_parallel(workers: int, address: str | None) -> None:
    """Refuse bad ``workers`` / ``address`` before any work; without Ray, ``address`` names the extra."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers={workers!r} is invalid: expected an integer >= 1 (parallel arms)")
    if address is None:
        return
    if not isinstance(address, str) or not address.strip():
        raise ConfigError(f"address={address!r} is invalid: expected 'auto', 'HOST:PORT' or 'ray://HOST:PORT'")
    try:
        import ray  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"address={address!r} needs Ray, which is not installed: pip install 'evprice[{RAY_EXTRA}]' "
            "(on a CPU machine install torch==2.13.0 first)"
        ) from None


def run_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[dict[str, Any]],
    workers: int = 1,
    address: str | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """``[fn(**task) for task in tasks]``, run as the module docstring says.

    ``on_done(index, finished)`` is called in this process as each task finishes: its index
    in ``tasks`` and how many have finished so far (for progress; the order of finishing
    depends on the workers, the results' order never does).
    """
    check_parallel(workers, address)
    done = on_done or (lambda index, finished: None)
    if address is not None:
        return _run_ray(fn, tasks, address, done)
    if workers == 1 or len(tasks) <= 1:
        results = []
        for i, task in enumerate(tasks):
            results.append(fn(**task))
            done(i, i + 1)
        return results
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no forked torch threads
    pool_args = dict(max_workers=min(workers, len(tasks)), mp_context=context, initializer=_one_simulator_thread)
    with ProcessPoolExecutor(**pool_args) as pool:
        futures = {pool.submit(fn, **task): i for i, task in enumerate(tasks)}
        for finished, future in enumerate(as_completed(futures), start=1):
            future.result()  # a task's error stops the run here
            done(futures[future], finished)
        return [f.result() for f in futures]


def _one_simulator_thread() -> None:
    """Each local worker runs the compiled world on one thread: the workers share the cores."""
    import numba

    numba.set_num_threads(1)


def _run_ray(
    fn: Callable[..., Any], tasks: Sequence[dict[str, Any]], address: str, done: Callable[[int, int], None]
) -> list[Any]:
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(address=address, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1)(fn)
        refs = [remote.options(num_cpus=task.get("torch_threads") or 1).remote(**task) for task in tasks]
        index = {ref: i for i, ref in enumerate(refs)}
        pending, finished = list(refs), 0
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            finished += 1
            done(index[ready[0]], finished)
        return ray.get(refs)
    finally:
        if started:
            ray.shutdown()
