"""The PPO losses on a fixed batch, worked out by hand."""

import math

import pytest
import torch

from evprice.learn.ppo import ppo_losses


def test_clipped_surrogate_and_value_loss_by_hand():
    old = torch.zeros(3)
    new = torch.log(torch.tensor([1.5, 0.5, 1.1]))  # ratios 1.5, 0.5, 1.1
    adv = torch.tensor([1.0, -2.0, 3.0])
    values = torch.tensor([1.0, 0.0, 2.0])
    old_values = torch.tensor([0.0, 0.0, 1.0])
    returns = torch.tensor([0.0, 1.0, 2.0])
    out = ppo_losses(new, old, adv, values, old_values, returns, clip_coef=0.2)
    # min(r A, clip(r) A): 1.5 -> min(1.5, 1.2) = 1.2; 0.5 (A < 0) -> min(-1.0, -1.6) = -1.6; 1.1 -> 3.3
    assert float(out.policy) == pytest.approx(-(1.2 - 1.6 + 3.3) / 3)
    assert float(out.value) == pytest.approx(0.5 * (1 + 1 + 0) / 3)
    kl = ((0.5 - math.log(1.5)) + (-0.5 - math.log(0.5)) + (0.1 - math.log(1.1))) / 3
    assert float(out.approx_kl) == pytest.approx(kl)
    assert float(out.clip_fraction) == pytest.approx(2 / 3)
    # clipped value: V_old + clip(V - V_old, +-0.2) = 0.2, 0, 1.2 -> errors 0.04, 1, 0.64; max with 1, 1, 0
    clipped = ppo_losses(new, old, adv, values, old_values, returns, clip_coef=0.2, clip_value=True)
    assert float(clipped.value) == pytest.approx(0.5 * (1 + 1 + 0.64) / 3)


def test_policy_gradient_points_towards_advantage():
    logp = torch.zeros(2, requires_grad=True)
    zeros = torch.zeros(2)
    out = ppo_losses(logp, zeros, torch.tensor([1.0, -1.0]), zeros, zeros, zeros, 0.2)
    out.policy.backward()
    assert logp.grad.tolist() == pytest.approx([-0.5, 0.5])  # raise the good action's probability
