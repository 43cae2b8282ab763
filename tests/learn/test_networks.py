"""Policy distributions and the grouped networks."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from evprice.learn.networks import Actor, BetaAction, Critic, GaussianAction


def test_beta_action_density_and_support():
    alpha, beta = torch.tensor([[2.0], [5.0]]), torch.tensor([[3.0], [1.5]])
    dist = BetaAction(alpha, beta)
    a = torch.tensor([[-0.5], [0.8]])
    expected = stats.beta.logpdf((a.numpy() + 1) / 2, alpha.numpy(), beta.numpy()) - math.log(2.0)
    np.testing.assert_allclose(dist.log_prob(a).numpy(), expected, rtol=1e-6)
    torch.manual_seed(0)
    samples = torch.stack([dist.sample(torch.Generator()) for _ in range(2000)])
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    np.testing.assert_allclose(samples.mean(0).numpy(), dist.deterministic().numpy(), atol=0.03)
    np.testing.assert_allclose(dist.deterministic().numpy(), [[2 * 2 / 5 - 1], [2 * 5 / 6.5 - 1]], rtol=1e-6)
    # entropy of the affine image: the Beta's plus log 2
    np.testing.assert_allclose(
        dist.entropy().numpy(), stats.beta.entropy(alpha.numpy(), beta.numpy()) + math.log(2.0), rtol=1e-6
    )


def test_gaussian_action_sampling_is_driven_by_the_generator():
    dist = GaussianAction(torch.zeros(3, 1), torch.ones(3, 1))
    a = dist.sample(torch.Generator().manual_seed(4))
    b = dist.sample(torch.Generator().manual_seed(4))
    assert torch.equal(a, b)


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("kind", ["gaussian", "beta"])
def test_shapes_and_per_agent_networks(shared, kind):
    actor = Actor(3, 5, (8,), shared, -0.5, kind)
    obs = torch.randn(4, 3, 5)
    dist = actor.distribution(obs)
    assert dist.deterministic().shape == (4, 3, 1)
    assert dist.log_prob(dist.deterministic()).shape == (4, 3, 1)
    critic = Critic(3, 7, (8,), shared, centralised=True)
    assert critic(torch.randn(4, 7)).shape == (4, 3)
    ippo_critic = Critic(3, 5, (8,), shared, centralised=False)
    assert ippo_critic(obs).shape == (4, 3)
    if not shared:  # agent k's output depends on agent k's input only
        x = obs.clone()
        x[:, 1] += 1.0
        before, after = actor.mean(obs), actor.mean(x)
        assert torch.equal(before[:, 0], after[:, 0]) and torch.equal(before[:, 2], after[:, 2])
