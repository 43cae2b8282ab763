"""Pricing policies with one interface: observations (B, N, D) in, actions (B, N, 1) out;
and the game-theory benchmarks they are judged against (:mod:`evprice.policies.theory`)."""

from evprice.policies.base import Policy
from evprice.policies.baselines import (
    POLICIES,
    FixedPricePolicy,
    MyopicPolicy,
    RandomPolicy,
    TimeOfUsePolicy,
    make_policy,
)
from evprice.policies.search import best_fixed_prices

__all__ = [
    "POLICIES",
    "FixedPricePolicy",
    "MyopicPolicy",
    "Policy",
    "RandomPolicy",
    "TimeOfUsePolicy",
    "best_fixed_prices",
    "make_policy",
]
