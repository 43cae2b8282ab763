"""Metrics, experiment runners and reports."""

from evprice.analysis.rollout import rollout

__all__ = ["rollout"]
