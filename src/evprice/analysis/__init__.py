"""Metrics, experiment runners and reports."""

from evprice.analysis.rollouts import rollout

__all__ = ["rollout"]
