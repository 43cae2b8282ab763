"""Metrics, experiment runners and reports."""

from evprice.analysis.rollouts import evaluate, rollout, run_episodes

__all__ = ["evaluate", "rollout", "run_episodes"]
