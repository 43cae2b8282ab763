"""Grid.assess: costs of bus loads, and how a power flow that did not converge is judged."""

import numpy as np
import pytest

from evprice.grid.config import GridConfig
from evprice.grid.features import LOADING_MAX, VM_BOUNDS_PU
from evprice.grid.model import Grid


@pytest.mark.parametrize("feeder", ["case33bw", "doc2"])
def test_a_collapsed_feeder_costs_more_than_any_converged_one(feeder):
    """Sweep the load up to and past voltage collapse: no converged scenario costs as much as
    a failed one, so a learner gains nothing by pushing the feeder over the edge."""
    grid = Grid(GridConfig(feeder=feeder))
    scale = np.linspace(1.0, 4.5, 120)[:, None]
    p, q = scale * grid.feeder.load_p_mw, scale * grid.feeder.load_q_mvar
    metered = np.zeros_like(p)
    metered[:, list(grid.feeder.station_buses)] = 100.0  # kWh the stations drew
    a = grid.assess(p, q, 700.0, metered_kwh=metered)
    ok = a.result.converged
    assert ok[0] and not ok[-1]  # the sweep crosses the collapse
    assert a.costs.total[~ok].min() > a.costs.total[ok].max()
    assert (a.costs.voltage[~ok] >= a.costs.voltage[ok].max()).all()
    assert (a.costs.carbon[~ok] >= a.costs.carbon[ok].max()).all()
    assert a.result.vm_pu[ok].min() > VM_BOUNDS_PU[0] + 0.4  # near the nose: about 0.48 p.u.
    assert a.result.line_loading[ok].max() < LOADING_MAX / 2  # about 3.4 at the nose
    assert (a.costs.line[~ok] >= a.costs.line[ok].max()).all()


def test_judged_values_of_a_failed_flow():
    grid = Grid(GridConfig(feeder="doc2", vm_min_pu=0.94, line_loading_limit=0.8, carbon_cap_g_per_kwh=785.0))
    p, q = grid.base_load(np.array([1.0, 10.0]))
    metered = np.zeros_like(p)
    metered[:, 31] = 50.0
    a = grid.assess(p, q, 700.0, metered_kwh=metered)
    assert a.result.converged.tolist() == [True, False]
    assert np.isnan(a.result.vm_pu[1]).all()  # the solver's numbers stay unknown
    assert a.vm_pu[1, 0] == 1.0 and (a.vm_pu[1, 1:] == VM_BOUNDS_PU[0]).all()
    assert (a.line_loading[1] == LOADING_MAX).all() and (a.nodal_carbon_g_per_kwh[1] == 900.0).all()
    assert a.costs.voltage[1] == pytest.approx(32 * (0.94 - VM_BOUNDS_PU[0]))
    assert a.costs.line[1] == pytest.approx(3 * (LOADING_MAX - 0.8))
    assert a.costs.carbon[1] == pytest.approx(50.0 * (900.0 - 785.0) / 1e3)
    w = grid.weights
    expected = (
        w.voltage * a.costs.voltage[1] + w.line * a.costs.line[1] + w.carbon * a.costs.carbon[1] + w.nonconvergence
    )
    assert a.costs.total[1] == pytest.approx(expected)
    assert a.carbon_intensity_g_per_kwh[1] == 900.0 and np.isfinite(a.feeder_stress).all()


def test_base_load_takes_one_factor_or_many():
    grid = Grid(GridConfig(feeder="case33bw"))
    p, q = grid.base_load(0.5)
    assert p.shape == (1, 33) and p.sum() == pytest.approx(0.5 * 3.715)
    p, q = grid.base_load([1.0, 2.0])
    assert q.sum(axis=1) == pytest.approx([2.3, 4.6])
