"""Policy distributions and the seed-stacked networks."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from evprice.learn.networks import Actor, BetaAction, Critic, GaussianAction, Tanh, load_seed_state, seed_state


def test_beta_action_density_support_and_spread():
    alpha, beta = torch.tensor([[[2.0], [5.0]]]), torch.tensor([[[3.0], [1.5]]])  # (K=1, 2, 1)
    dist = BetaAction(alpha, beta)
    a = torch.tensor([[[-0.5], [0.8]]])
    expected = stats.beta.logpdf((a.numpy() + 1) / 2, alpha.numpy(), beta.numpy()) - math.log(2.0)
    np.testing.assert_allclose(dist.log_prob(a).numpy(), expected, rtol=1e-6)
    gen = [torch.Generator().manual_seed(0)]
    samples = torch.stack([dist.sample(gen) for _ in range(4000)])
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    np.testing.assert_allclose(samples.mean(0).numpy(), dist.deterministic().numpy(), atol=0.03)
    np.testing.assert_allclose(dist.deterministic().numpy(), [[[2 * 2 / 5 - 1], [2 * 5 / 6.5 - 1]]], rtol=1e-6)
    # the policy's own spread: twice the Beta's standard deviation (scipy), and the samples agree
    spread = 2 * stats.beta.std(alpha.numpy(), beta.numpy())
    np.testing.assert_allclose(dist.stddev().numpy(), spread, rtol=1e-6)
    np.testing.assert_allclose(samples.std(0).numpy(), spread, rtol=0.05)
    # entropy of the affine image: the Beta's plus log 2
    np.testing.assert_allclose(
        dist.entropy().numpy(), stats.beta.entropy(alpha.numpy(), beta.numpy()) + math.log(2.0), rtol=1e-6
    )


def test_each_seed_samples_from_its_own_generator():
    for dist in (
        GaussianAction(torch.zeros(3, 4, 1), torch.ones(3, 4, 1)),
        BetaAction(torch.full((3, 4, 1), 2.0), torch.full((3, 4, 1), 3.0)),
    ):
        a = dist.sample([torch.Generator().manual_seed(s) for s in (4, 5, 6)])
        b = dist.sample([torch.Generator().manual_seed(s) for s in (9, 5, 8)])
        assert torch.equal(a[1], b[1]) and not torch.equal(a[0], b[0])
        one = type(dist)(*(x[1:2] for x in _params(dist))).sample([torch.Generator().manual_seed(5)])
        assert torch.equal(one[0], a[1])  # seed 5 alone draws what it draws among others


def _params(dist):
    if isinstance(dist, GaussianAction):
        return dist.normal.mean, dist.normal.stddev
    return dist.beta.concentration1, dist.beta.concentration0


def test_gaussian_spread_is_the_learned_std():
    actor = Actor(2, 3, (4,), True, -0.7, "gaussian", seeds=2)
    dist = actor.distribution(torch.randn(2, 5, 2, 3))
    np.testing.assert_allclose(dist.stddev().detach().numpy(), np.exp(-0.7), rtol=1e-6)


def test_sigmoid_tanh_is_tanh_with_tanh_gradient():
    x = torch.linspace(-12.0, 12.0, 2001, requires_grad=True)
    y = Tanh()(x)
    np.testing.assert_allclose(y.detach().numpy(), np.tanh(x.detach().numpy().astype(np.float64)), atol=2e-7)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.0 / np.cosh(x.detach().numpy().astype(np.float64)) ** 2, atol=1e-6)


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("kind", ["gaussian", "beta"])
def test_shapes_and_per_agent_networks(shared, kind):
    actor = Actor(3, 5, (8,), shared, -0.5, kind, seeds=2)
    obs = torch.randn(2, 4, 3, 5)
    dist = actor.distribution(obs)
    assert dist.deterministic().shape == (2, 4, 3, 1)
    assert dist.log_prob(dist.deterministic()).shape == (2, 4, 3, 1)
    critic = Critic(3, 7, (8,), shared, centralised=True, seeds=2)
    assert critic(torch.randn(2, 4, 7)).shape == (2, 4, 3)
    ippo_critic = Critic(3, 5, (8,), shared, centralised=False, seeds=2)
    assert ippo_critic(obs).shape == (2, 4, 3)
    if not shared:  # agent k's output depends on agent k's input only
        x = obs.clone()
        x[:, :, 1] += 1.0
        before, after = actor.mean(obs), actor.mean(x)
        assert torch.equal(before[:, :, 0], after[:, :, 0]) and torch.equal(before[:, :, 2], after[:, :, 2])


@pytest.mark.parametrize("shared", [True, False])
def test_a_seed_is_the_one_seed_network_with_its_own_weights(shared):
    """Seed k of a stacked actor computes what a one-seed actor holding seed k's weights
    computes: the same layer arithmetic written per seed by hand, and the same initial
    weights as a one-seed network built from the same generator."""
    gens = [torch.Generator().manual_seed(s) for s in (11, 12, 13)]
    stacked = Actor(2, 4, (6, 5), shared, -0.5, "beta", seeds=3, generators=gens)
    alone = Actor(2, 4, (6, 5), shared, -0.5, "beta", seeds=1, generators=[torch.Generator().manual_seed(12)])
    for (name, p), q in zip(stacked.named_parameters(), alone.parameters()):
        assert torch.equal(p[1], q[0]), name
    obs = torch.randn(3, 7, 2, 4)
    x = torch.cat([obs[1], torch.eye(2).expand(7, -1, -1)], -1) if shared else obs[1]
    for layer in (stacked.body[0], stacked.body[2], stacked.body[4]):  # by hand: x W + b per agent group
        w, b = layer.weight[1], layer.bias[1]
        x = torch.stack([x[:, j] @ w[0 if shared else j] + b[0 if shared else j, 0] for j in range(2)], dim=1)
        if layer is not stacked.body[4]:
            x = torch.tanh(x)
    shape = 1.0 + torch.nn.functional.softplus(x)
    expected = 2.0 * shape[..., :1] / shape.sum(-1, keepdim=True) - 1.0
    torch.testing.assert_close(stacked.mean(obs)[1], expected, rtol=1e-5, atol=1e-6)
    # a seed's state round-trips through the one-seed format checkpoints keep
    other = Actor(2, 4, (6, 5), shared, -0.5, "beta", seeds=2)
    load_seed_state(other, 0, seed_state(stacked, 1))
    torch.testing.assert_close(other.mean(obs[[1, 0]])[0], stacked.mean(obs)[1])
    with pytest.raises(ValueError, match="body.0.weight has shape"):
        load_seed_state(Actor(2, 4, (3,), shared, -0.5, "beta"), 0, seed_state(stacked, 1))


@pytest.mark.parametrize("kind", ["gaussian", "beta"])
def test_padding_columns_never_count_in_the_log_density_or_the_entropy(kind):
    """A mediator's action has two columns, the stations' one (issue 23): a station's second
    column is padding, so changing it leaves its log-density alone, and the total is the sum of
    the used columns' densities, worked out from the distribution column by column."""
    mask = np.array([[True, False], [True, False], [True, True]])
    actor = Actor(3, 5, (8,), True, -0.5, kind, seeds=2, action_dim=2, action_mask=mask)
    obs = torch.randn(2, 4, 3, 5, generator=torch.Generator().manual_seed(0))
    dist = actor.distribution(obs)
    action = torch.rand(2, 4, 3, 2, generator=torch.Generator().manual_seed(1)) * 1.6 - 0.8
    logp = actor.log_prob(dist, action)
    assert logp.shape == (2, 4, 3)
    per_column = dist.log_prob(action)
    torch.testing.assert_close(logp[..., :2], per_column[..., :2, 0])
    torch.testing.assert_close(logp[..., 2], per_column[..., 2, :].sum(-1))
    moved = action.clone()
    moved[..., :2, 1] += 0.5  # the stations' padding
    torch.testing.assert_close(actor.log_prob(dist, moved), logp)
    entropy = actor.entropy(dist)
    torch.testing.assert_close(entropy[..., :2], dist.entropy()[..., :2, 0])
