"""Which compiler for the compiled world: one kernel, written per technology, measured side by side.

The "A compiled world" issue asks for the technology to be chosen by measurement: numba
(``parallel=True``, and numba-cuda on a GPU), JAX (``jit`` / ``vmap`` / ``lax.scan``), or
the numpy we have. This script measures them on the sequential heart of a pricing period,
stage 3 of ``evprice.market.dynamics`` in a reduced form, so that the numbers compare
compilers and not models:

* per batch member, the period's arrival events in time order (``inf`` = padding);
* each driver counts the EVs present at every station at its arrival instant, values
  station ``k`` at ``a_k - beta p_k - gamma present_k / c_k + noise`` and the outside option
  at ``u_0 + noise``, takes the best, gives up, is blocked (station full) or is admitted
  to the first free charger, which it holds for its dwell time;
* an admitted EV books ``p_k min(E, P_k D)`` of revenue.

It is a prototype for the choice, not the world: the package keeps one copy of the
dynamics (``evprice.market.dynamics``). Every implementation is checked against the numpy
one on the same draws (counts equal, revenue to 1e-9) before it is timed.

    python benchmarks/technology_choice.py                 # this machine's CPU
    python benchmarks/technology_choice.py --gpu           # adds numba-cuda and JAX on the GPU
    python benchmarks/technology_choice.py --json

Rates are env-steps (pricing periods of one market) per second over a day of 96 periods,
the median of ``--repeats`` runs; "first call" is the first period's wall time including
compilation, cold (no numba cache) and cached (a second process).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

N_STATIONS = 2
CHARGERS = 4
MAX_EVENTS = 8  # padded events per period: Poisson(1) arrivals exceed 8 with probability 1e-6
PERIOD_S = 900.0
PERIODS = 96


# -- inputs ------------------------------------------------------------------------------
def make_inputs(batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """One period's draws for ``batch`` markets (reused every period, shifted in time)."""
    rng = np.random.default_rng(seed)
    counts = np.minimum(rng.poisson(1.0, batch), MAX_EVENTS)
    offsets = np.sort(rng.uniform(0.0, PERIOD_S, (batch, MAX_EVENTS)), axis=1)
    offsets[np.arange(MAX_EVENTS)[None, :] >= counts[:, None]] = np.inf
    return {
        "prices": rng.uniform(0.6, 2.0, (batch, N_STATIONS)),
        "offsets": offsets,
        "noise": rng.gumbel(size=(batch, MAX_EVENTS, N_STATIONS + 1)),
        "dwell": rng.gamma(1 / 1.21, 1.15 * 3600 * 1.21, (batch, MAX_EVENTS)),
        "energy": rng.gamma(1 / 0.66**2, 21.8 * 0.66**2, (batch, MAX_EVENTS)),
    }


PARAMS = {
    "cap": np.full(N_STATIONS, CHARGERS, dtype=np.int64),
    "power": np.full(N_STATIONS, 30.0),
    "util0": np.zeros(N_STATIONS),
    "beta": 4.0,
    "gamma": 2.0,
    "outside": -5.5,
}


def empty_state(batch: int) -> dict[str, np.ndarray]:
    return {
        "depart": np.zeros((batch, N_STATIONS, CHARGERS)),
        "admitted": np.zeros((batch, N_STATIONS), dtype=np.int64),
        "blocked": np.zeros((batch, N_STATIONS), dtype=np.int64),
        "gave_up": np.zeros(batch, dtype=np.int64),
        "revenue": np.zeros((batch, N_STATIONS)),
    }


# -- numpy: vectorised over the batch, a loop over events (evprice today) ----------------
def numpy_period(t0: float, x: dict, s: dict, p: dict) -> None:
    b = x["prices"].shape[0]
    rows = np.arange(b)
    base = p["util0"] - p["beta"] * x["prices"]  # (B, N)
    for m in range(MAX_EVENTS):
        t = t0 + x["offsets"][:, m]
        live = np.isfinite(t)
        present = (s["depart"] > t[:, None, None]).sum(axis=2)  # (B, N)
        u = base - p["gamma"] * present / p["cap"] + x["noise"][:, m, :N_STATIONS]
        k = u.argmax(axis=1)
        best = u[rows, k]
        gave = live & (p["outside"] + x["noise"][:, m, N_STATIONS] > best)
        full = present[rows, k] >= p["cap"][k]
        blocked = live & ~gave & full
        admit = live & ~gave & ~full
        s["gave_up"] += gave
        np.add.at(s["blocked"], (rows[blocked], k[blocked]), 1)
        a = np.flatnonzero(admit)
        if a.size:
            ka = k[a]
            slot = (s["depart"][a, ka] > t[a, None]).argmin(axis=1)  # first free charger
            s["depart"][a, ka, slot] = t[a] + x["dwell"][a, m]
            e = np.minimum(x["energy"][a, m], p["power"][ka] * x["dwell"][a, m] / 3600.0)
            s["revenue"][a, ka] += x["prices"][a, ka] * e
            s["admitted"][a, ka] += 1


# -- the per-member kernel: one source for numba on the CPU and numba-cuda on the GPU -----
def member_period(b, t0, prices, offsets, noise, dwell, energy, depart, cap, power, util0, beta, gamma, outside,
                  admitted, blocked, gave_up, revenue):  # fmt: skip
    n = prices.shape[1]
    for m in range(offsets.shape[1]):
        off = offsets[b, m]
        if math.isinf(off):
            break
        t = t0 + off
        best = -math.inf
        kbest = 0
        present_best = 0
        for k in range(n):
            present = 0
            for c in range(cap[k]):
                if depart[b, k, c] > t:
                    present += 1
            u = util0[k] - beta * prices[b, k] - gamma * present / cap[k] + noise[b, m, k]
            if u > best:
                best = u
                kbest = k
                present_best = present
        if outside + noise[b, m, n] > best:
            gave_up[b] += 1
            continue
        if present_best >= cap[kbest]:
            blocked[b, kbest] += 1
            continue
        for c in range(cap[kbest]):
            if depart[b, kbest, c] <= t:
                depart[b, kbest, c] = t + dwell[b, m]
                break
        e = min(energy[b, m], power[kbest] * dwell[b, m] / 3600.0)
        revenue[b, kbest] += prices[b, kbest] * e
        admitted[b, kbest] += 1


def numba_cpu(parallel: bool) -> Callable[[float, dict, dict, dict], None]:
    import numba

    member = numba.njit(cache=True)(member_period)

    def batch_period(t0, prices, offsets, noise, dwell, energy, depart, cap, power, util0, beta, gamma, outside,
                     admitted, blocked, gave_up, revenue):  # fmt: skip
        for b in numba.prange(prices.shape[0]):
            member(b, t0, prices, offsets, noise, dwell, energy, depart, cap, power, util0, beta, gamma, outside,
                   admitted, blocked, gave_up, revenue)  # fmt: skip

    kernel = numba.njit(parallel=parallel, cache=True)(batch_period)

    def run(t0: float, x: dict, s: dict, p: dict) -> None:
        kernel(t0, x["prices"], x["offsets"], x["noise"], x["dwell"], x["energy"], s["depart"], p["cap"], p["power"],
               p["util0"], p["beta"], p["gamma"], p["outside"], s["admitted"], s["blocked"], s["gave_up"],
               s["revenue"])  # fmt: skip

    return run


cuda = None  # numba.cuda once numba_cuda() has run (a module global, as its simulator expects)


def numba_cuda():
    """(to_device, run, to_host) for the same per-member source compiled by numba-cuda."""
    global cuda
    from numba import cuda

    member = cuda.jit(device=True)(member_period)

    @cuda.jit
    def kernel(t0, prices, offsets, noise, dwell, energy, depart, cap, power, util0, beta, gamma, outside,
               admitted, blocked, gave_up, revenue):  # fmt: skip
        b = cuda.grid(1)
        if b < prices.shape[0]:
            member(b, t0, prices, offsets, noise, dwell, energy, depart, cap, power, util0, beta, gamma, outside,
                   admitted, blocked, gave_up, revenue)  # fmt: skip

    def to_device(d: dict) -> dict:
        return {k: cuda.to_device(v) if isinstance(v, np.ndarray) else v for k, v in d.items()}

    def run(t0: float, x: dict, s: dict, p: dict) -> None:
        b = x["prices"].shape[0]
        threads = 128
        kernel[(b + threads - 1) // threads, threads](
            t0, x["prices"], x["offsets"], x["noise"], x["dwell"], x["energy"], s["depart"], p["cap"], p["power"],
            p["util0"], p["beta"], p["gamma"], p["outside"], s["admitted"], s["blocked"], s["gave_up"], s["revenue"],
        )  # fmt: skip

    def to_host(d: dict) -> dict:
        cuda.synchronize()
        return {k: v.copy_to_host() if hasattr(v, "copy_to_host") else v for k, v in d.items()}

    return to_device, run, to_host


# -- JAX: vmap over the batch of a lax.scan over events ----------------------------------
def jax_kernel(platform_name: str | None = None):
    """(to_device, run, to_host) on ``platform_name`` ("cpu", "gpu"; None: JAX's default);
    ``run`` returns the new state (JAX arrays are immutable)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def member(t0, prices, offsets, noise, dwell, energy, depart, admitted, blocked, gave_up, revenue, p):
        cap, power, util0 = p["cap"], p["power"], p["util0"]
        valid_slot = jnp.arange(CHARGERS)[None, :] < cap[:, None]  # (N, C)
        base = util0 - p["beta"] * prices

        def event(carry, ev):
            depart, admitted, blocked, gave_up, revenue = carry
            off, nz, dw, en = ev
            t = t0 + off
            live = jnp.isfinite(t)
            present = ((depart > t) & valid_slot).sum(axis=1)
            u = base - p["gamma"] * present / cap + nz[:N_STATIONS]
            k = jnp.argmax(u)
            gave = live & (p["outside"] + nz[N_STATIONS] > u[k])
            full = present[k] >= cap[k]
            admit = live & ~gave & ~full
            slot = jnp.argmax((depart[k] <= t) & valid_slot[k])
            depart = depart.at[k, slot].set(jnp.where(admit, t + dw, depart[k, slot]))
            e = jnp.minimum(en, power[k] * dw / 3600.0)
            one_hot = jnp.arange(N_STATIONS) == k
            admitted = admitted + (admit & one_hot)
            blocked = blocked + (live & ~gave & full & one_hot)
            revenue = revenue + jnp.where(admit & one_hot, prices[k] * e, 0.0)
            return (depart, admitted, blocked, gave_up + gave, revenue), None

        carry = (depart, admitted, blocked, gave_up, revenue)
        carry, _ = jax.lax.scan(event, carry, (offsets, noise, dwell, energy))
        return carry

    batched = jax.vmap(member, in_axes=(None, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, None))

    @jax.jit
    def step(t0, x, s, p):
        out = batched(t0, x["prices"], x["offsets"], x["noise"], x["dwell"], x["energy"], s["depart"],
                      s["admitted"], s["blocked"], s["gave_up"], s["revenue"], p)  # fmt: skip
        return dict(zip(("depart", "admitted", "blocked", "gave_up", "revenue"), out))

    device = jax.devices(platform_name)[0] if platform_name else jax.devices()[0]

    def to_device(d: dict) -> dict:
        return {k: jax.device_put(jnp.asarray(v), device) for k, v in d.items()}

    def to_host(d: dict) -> dict:
        return {k: np.asarray(jax.block_until_ready(v)) for k, v in d.items()}

    return to_device, step, to_host


# -- checks and timing ---------------------------------------------------------------------
def day_numpy(batch: int, periods: int) -> dict:
    x, s = make_inputs(batch), empty_state(batch)
    for k in range(periods):
        numpy_period(k * PERIOD_S, x, s, PARAMS)
    return s


def check(name: str, got: dict, want: dict) -> None:
    for key in ("admitted", "blocked", "gave_up"):
        if not np.array_equal(got[key], want[key]):
            raise AssertionError(f"{name}: {key} differs from numpy")
    np.testing.assert_allclose(got["revenue"], want["revenue"], rtol=1e-9, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(got["depart"], want["depart"], rtol=1e-12, atol=1e-9, err_msg=name)


def rate_host(period: Callable, batch: int, repeats: int) -> float:
    """env-steps/s of a kernel that updates host arrays in place."""
    x = make_inputs(batch)
    times = []
    for _ in range(repeats):
        s = empty_state(batch)
        t = time.perf_counter()
        for k in range(PERIODS):
            period(k * PERIOD_S, x, s, PARAMS)
        times.append(time.perf_counter() - t)
    return batch * PERIODS / float(np.median(times))


def rate_device(kind: str, batch: int, repeats: int) -> tuple[float, dict]:
    """env-steps/s of a device kernel over a day, state and draws resident; and the day's result."""
    if kind == "numba-cuda":
        to_device, run, to_host = numba_cuda()
    else:
        to_device, run, to_host = jax_kernel("gpu" if kind == "jax-gpu" else "cpu")
    functional = kind.startswith("jax")
    x, p = to_device(make_inputs(batch)), to_device(PARAMS)
    times, result = [], None
    for r in range(repeats + 1):  # the first day compiles
        s = to_device(empty_state(batch))
        to_host({"revenue": s["revenue"]})
        t = time.perf_counter()
        for k in range(PERIODS):
            out = run(k * PERIOD_S, x, s, p)
            if functional:
                s = out
        result = to_host(s)
        if r:
            times.append(time.perf_counter() - t)
    return batch * PERIODS / float(np.median(times)), result


def first_call_s(impl: str, cached: bool) -> float:
    """Wall time of the first period in a fresh process (compile included), optionally after a warm cache."""
    code = (
        "import time, sys; sys.path.insert(0, {!r}); t = time.perf_counter();"
        "import technology_choice as tc; x, s = tc.make_inputs(4), tc.empty_state(4);"
        "f = tc.numba_cpu({}) if {!r} != 'jax' else None\n"
        "if f is None:\n"
        "    d, step, h = tc.jax_kernel('cpu'); h(step(0.0, d(x), d(s), d(tc.PARAMS)))\n"
        "else:\n"
        "    f(0.0, x, s, tc.PARAMS)\n"
        "print(time.perf_counter() - t)"
    ).format(os.path.dirname(os.path.abspath(__file__)), impl == "numba-parallel", impl)
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = os.path.join("/tmp", f"numba-cache-{os.getpid()}-{time.time_ns()}")  # empty: cold
    runs = 2 if cached else 1  # the first run of a cached measurement fills the cache
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="also numba-cuda and JAX on the GPU")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 1024, 16384])
    parser.add_argument("--gpu-batches", type=int, nargs="+", default=[1024, 65536, 1048576])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rows = []
    cpu = {"numpy": numpy_period, "numba": numba_cpu(False), "numba-parallel": numba_cpu(True)}
    for batch in args.batches:
        want = day_numpy(batch, PERIODS)
        for name, fn in cpu.items():
            if name != "numpy":
                x, s = make_inputs(batch), empty_state(batch)
                for k in range(PERIODS):
                    fn(k * PERIOD_S, x, s, PARAMS)
                check(f"{name} B={batch}", s, want)
            rows.append({"impl": name, "device": "cpu", "batch": batch, "rate": rate_host(fn, batch, args.repeats)})
        rate, result = rate_device("jax", batch, args.repeats)
        check(f"jax B={batch}", result, want)
        rows.append({"impl": "jax", "device": "cpu", "batch": batch, "rate": rate})
    if args.gpu:
        for batch in args.gpu_batches:
            want = day_numpy(batch, PERIODS) if batch <= 65536 else None
            for kind in ("numba-cuda", "jax-gpu"):
                rate, result = rate_device(kind, batch, args.repeats)
                if want is not None:
                    check(f"{kind} B={batch}", result, want)
                rows.append({"impl": kind, "device": "gpu", "batch": batch, "rate": rate, "checked": want is not None})
    first = {
        f"{impl} ({'cached' if cached else 'cold'})": first_call_s(impl, cached)
        for impl in ("numba-parallel", "jax")
        for cached in (False, True)
        if not (impl == "jax" and cached)
    }
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, python "
        f"{platform.python_version()}",
        "rows": rows,
        "first_call_s": first,
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"one pricing period's allocation, {N_STATIONS} stations x {CHARGERS} chargers, day of {PERIODS} periods")
    print(f"({report['machine']}; every implementation checked against numpy before timing)\n")
    ref = {r["batch"]: r["rate"] for r in rows if r["impl"] == "numpy"}
    print("| implementation | device | B | env-steps/s | vs numpy at the same B |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        vs = f"{r['rate'] / ref[r['batch']]:.1f}x" if r["batch"] in ref else "-"
        print(f"| {r['impl']} | {r['device']} | {r['batch']:,} | {r['rate']:,.0f} | {vs} |")
    print("\nfirst call, compile included (fresh process):")
    for k, v in first.items():
        print(f"  {k}: {v:.2f} s")


if __name__ == "__main__":
    main()
