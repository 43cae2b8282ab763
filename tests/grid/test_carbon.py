"""Carbon emission flow against a dense solve of its defining equations, and its balance.

Batches are solved serially (below ``carbon.PARALLEL_MIN_BATCH`` scenarios) or over the
thread pool; the tests use both."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evprice.grid.carbon import CarbonFlow
from evprice.grid.feeders import case33bw, doc2
from evprice.grid.powerflow import FastRadialSolver


def reference_intensity(feeder, result, load_p_mw, ext_g, sgen_g):
    """Solve w_k (G_k + inflow_k) = G_k e_k + sum inflow_l w_other(l) bus by bus, as one dense
    system per scenario written from the line flows (sources: the import, the generation,
    negative loads at the generation's intensity)."""
    n = feeder.n_bus
    out = np.empty((result.batch_size, n))
    for b in range(result.batch_size):
        a = np.zeros((n, n))
        local = feeder.sgen_p_mw + np.maximum(-load_p_mw[b], 0.0)
        diag = local.copy()
        rhs = local * sgen_g
        imported = max(result.p_slack_mw[b], 0.0)
        diag[feeder.slack_bus] += imported
        rhs[feeder.slack_bus] += imported * ext_g
        for line, (i, j) in enumerate(zip(feeder.from_bus, feeder.to_bus)):
            into_j, into_i = -result.p_to_mw[b, line], -result.p_from_mw[b, line]
            if into_j > 0:
                diag[j] += into_j
                a[j, i] += into_j
            if into_i > 0:
                diag[i] += into_i
                a[i, j] += into_i
        out[b] = np.linalg.solve(np.diag(diag) - a, rhs)
    return out


def scenarios(f, seed, b, heavy, negative=0.0):
    """Loads up to ``heavy`` times the published ones; with ``negative`` > 0, some buses inject."""
    rng = np.random.default_rng(seed)
    p = f.load_p_mw * rng.uniform(0.0, heavy, (b, f.n_bus))
    q = f.load_q_mvar * rng.uniform(0.0, heavy, (b, f.n_bus))
    if negative:
        inject = rng.random((b, f.n_bus)) < 0.2
        p = np.where(inject, -negative * rng.random((b, f.n_bus)), p)
    return p, q


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**32 - 1),
    heavy=st.floats(0.05, 2.5),
    sgen_mw=st.floats(0.0, 6.0),
    sgen_bus=st.integers(1, 32),
    negative=st.sampled_from([0.0, 0.3]),
)
def test_the_elimination_equals_the_reference(seed, heavy, sgen_mw, sgen_bus, negative):
    """Any generator size and place, and injections: flows downstream, upstream or both."""
    sgen = np.zeros(33)
    sgen[sgen_bus] = sgen_mw
    f = dataclasses.replace(case33bw(), sgen_p_mw=sgen)
    p, q = scenarios(f, seed, 4, heavy, negative)
    res = FastRadialSolver(f).solve(p, q)
    assert res.converged.all()
    got = CarbonFlow(f).nodal_intensity_g_per_kwh(res, 700.0, 900.0, p)
    np.testing.assert_allclose(got, reference_intensity(f, res, p, 700.0, 900.0), rtol=1e-9, atol=1e-9)
    assert (got >= 700.0 - 1e-9).all() and (got <= 900.0 + 1e-9).all()


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**32 - 1),
    heavy=st.floats(0.05, 2.5),
    negative=st.sampled_from([0.0, 0.3]),
)
def test_emissions_balance(seed, heavy, negative):
    """What the sources emit is what the loads and the line losses carry away."""
    f = doc2()
    p, q = scenarios(f, seed, 4, heavy, negative)
    res = FastRadialSolver(f).solve(p, q)
    w = CarbonFlow(f).nodal_intensity_g_per_kwh(res, 650.0, 900.0, p)
    local = f.sgen_p_mw + np.maximum(-p, 0.0)
    sources = np.maximum(res.p_slack_mw, 0.0) * 650.0 + (local * 900.0).sum(axis=1)
    # a line's losses carry the intensity of the end(s) feeding it: one end when the power
    # crosses the line; both when the two ends each push power in (heavy reactive flows)
    w_from, w_to = w[:, f.from_bus], w[:, f.to_bus]
    p_from, p_to = res.p_from_mw, res.p_to_mw
    crossing = np.where(p_from >= 0, (p_from + p_to) * w_from, (p_from + p_to) * w_to)
    both_feed = (p_from > 0) & (p_to > 0)
    losses = np.where(both_feed, p_from * w_from + p_to * w_to, crossing).sum(axis=1)
    sinks = (np.maximum(p, 0.0) * w).sum(axis=1) + np.maximum(-res.p_slack_mw, 0.0) * w[:, 0] + losses
    np.testing.assert_allclose(sources, sinks, rtol=1e-9)


@pytest.mark.parametrize("sgen_bus", [5, 17, 24])
def test_the_default_dispatch_agrees_across_batch_sizes(sgen_bus):
    """Small batches run serially, large ones over the thread pool: a scenario's
    intensities do not depend on the batch it is solved in."""
    sgen = np.zeros(33)
    sgen[sgen_bus] = 2.5
    f = dataclasses.replace(case33bw(), sgen_p_mw=sgen)
    p, q = scenarios(f, sgen_bus, 100, 1.5)
    p[:5] = 0.0  # empty feeders: only the generator's power, flowing to the substation
    q[:5] = 0.0
    res = FastRadialSolver(f).solve(p, q)
    flow = CarbonFlow(f)
    big = flow.nodal_intensity_g_per_kwh(res, 650.0, 900.0, p)
    small = np.concatenate(
        [
            flow.nodal_intensity_g_per_kwh(res.take(slice(k, k + 10)), 650.0, 900.0, p[k : k + 10])
            for k in range(0, 100, 10)
        ]
    )
    np.testing.assert_allclose(big, small, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(big[:5], 900.0)  # every bus draws (or passes on) the generator's power


def test_no_generation_means_the_grid_intensity_everywhere():
    f = case33bw()
    p = np.tile(f.load_p_mw, (2, 1))
    p[1, 5] = 0.0  # a bus without load still passes the grid's power on
    res = FastRadialSolver(f).solve(p, np.tile(f.load_q_mvar, (2, 1)))
    got = CarbonFlow(f).nodal_intensity_g_per_kwh(res, 612.0, 900.0, p)
    np.testing.assert_allclose(got, 612.0)


def test_document_2_feeder_at_its_published_load():
    """The 3 MW generator at bus 5 covers everything downstream of it and back-feeds: the
    stations' buses 13 and 31 draw only its power; bus 19, on the lateral from bus 1, draws
    only the grid's."""
    f = doc2()
    res = FastRadialSolver(f).solve(f.load_p_mw, f.load_q_mvar)
    w = CarbonFlow(f).nodal_intensity_g_per_kwh(res, 700.0, 900.0, f.load_p_mw[None])[0]
    assert w[13] == pytest.approx(900.0) and w[31] == pytest.approx(900.0)
    assert res.p_from_mw[0, 4] < 0  # line 4-5 carries power upstream ...
    assert res.p_from_mw[0, 1] > 0  # ... which buses 2-4 and their lateral consume before bus 1
    np.testing.assert_allclose(w[[1, 18, 19]], 700.0, rtol=1e-12)
    assert 700.0 < w[2] < 900.0  # bus 2 mixes the grid's power with the back-fed generation
    night = 0.6 * f.load_p_mw  # the generator exceeds the load: everything is its power
    res = FastRadialSolver(f).solve(night, 0.6 * f.load_q_mvar)
    assert res.p_slack_mw[0] < 0
    np.testing.assert_allclose(CarbonFlow(f).nodal_intensity_g_per_kwh(res, 700.0, 900.0, night[None]), 900.0)


def test_not_converged_gives_nan():
    f = case33bw()
    p = 5 * f.load_p_mw
    res = FastRadialSolver(f).solve(p, 5 * f.load_q_mvar)
    assert np.isnan(CarbonFlow(f).nodal_intensity_g_per_kwh(res, 700.0, 900.0, p[None])).all()
