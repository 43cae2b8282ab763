"""Distribution feeders, power flow and grid constraint costs.

Bus and line indices are 0-based pandapower indices throughout."""

from evprice.grid.feeders import FEEDERS, Feeder, case33bw, doc2, make_feeder
from evprice.grid.powerflow import FastRadialSolver, PowerFlowResult, make_solver

__all__ = ["FEEDERS", "FastRadialSolver", "Feeder", "PowerFlowResult", "case33bw", "doc2", "make_feeder", "make_solver"]
