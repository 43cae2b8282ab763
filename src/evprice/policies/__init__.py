"""Pricing policies with one interface: observations (B, N, D) in, actions (B, N, 1) out."""

from evprice.policies.base import Policy
from evprice.policies.baselines import POLICIES, FixedPricePolicy, RandomPolicy, make_policy

__all__ = ["POLICIES", "FixedPricePolicy", "Policy", "RandomPolicy", "make_policy"]
