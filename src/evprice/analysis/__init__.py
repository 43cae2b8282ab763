"""Metrics, experiment runners and reports."""

from evprice.analysis.results import load_results
from evprice.analysis.rollouts import evaluate, rollout, run_episodes

__all__ = ["evaluate", "load_results", "rollout", "run_episodes"]
