"""Actor and critic networks for N stations, with or without shared parameters.

Both are multilayer perceptrons with tanh hidden layers applied to every agent at once:
``G = 1`` group of weights (shared; each agent's input carries its one-hot id) or ``G = N``
groups (one network per agent), evaluated as one batched matmul per layer either way.
Inputs are ``(batch, N, in)``; outputs ``(batch, N, out)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class GroupedLinear(nn.Module):
    """``G`` independent linear layers over the agent axis (``G = 1``: one shared layer)."""

    def __init__(self, groups: int, n_in: int, n_out: int, gain: float) -> None:
        super().__init__()
        weight = torch.empty(groups, n_in, n_out)
        for g in range(groups):
            nn.init.orthogonal_(weight[g], gain=gain)
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(torch.zeros(groups, 1, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, N, in) -> (batch, N, out)
        if self.weight.shape[0] == 1:
            return x @ self.weight[0] + self.bias[0]
        return torch.einsum("bni,nio->bno", x, self.weight) + self.bias.transpose(0, 1)


def mlp(groups: int, n_in: int, hidden: tuple[int, ...], n_out: int, out_gain: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [GroupedLinear(groups, width, h, math.sqrt(2.0)), nn.Tanh()]
        width = h
    layers.append(GroupedLinear(groups, width, n_out, out_gain))
    return nn.Sequential(*layers)


class AgentInputs(nn.Module):
    """Appends each agent's one-hot id to its input when parameters are shared."""

    def __init__(self, n_agents: int, shared: bool) -> None:
        super().__init__()
        self.n_agents = n_agents
        self.shared = shared
        self.register_buffer("eye", torch.eye(n_agents))

    @property
    def extra(self) -> int:
        return self.n_agents if self.shared else 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, N, in) -> (batch, N, in [+ N])
        if not self.shared:
            return x
        return torch.cat([x, self.eye.expand(x.shape[0], -1, -1)], dim=-1)


class GaussianAction:
    """Unbounded Gaussian actions (the environment clips them to [-1, 1])."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.normal = torch.distributions.Normal(mean, std)

    def sample(self, generator: torch.Generator) -> torch.Tensor:
        noise = torch.randn(self.normal.mean.shape, generator=generator).to(self.normal.mean.device)
        return self.normal.mean + self.normal.stddev * noise

    def log_prob(self, action: torch.Tensor) -> torch.Tensor:
        return self.normal.log_prob(action)

    def entropy(self) -> torch.Tensor:
        return self.normal.entropy()

    def deterministic(self) -> torch.Tensor:
        return self.normal.mean


class BetaAction:
    """Beta actions on [-1, 1] (Chou et al. 2017): no probability mass beyond the bounds, so
    no clipping bias when the best price lies at or near a bound."""

    EPS = 1e-6

    def __init__(self, alpha: torch.Tensor, beta: torch.Tensor) -> None:
        self.beta = torch.distributions.Beta(alpha, beta)

    def sample(self, generator: torch.Generator) -> torch.Tensor:
        # torch's gamma sampler takes no generator: it draws from the trainer-seeded global one
        return 2.0 * self.beta.sample() - 1.0

    def log_prob(self, action: torch.Tensor) -> torch.Tensor:
        x = ((action + 1.0) / 2.0).clamp(self.EPS, 1.0 - self.EPS)
        return self.beta.log_prob(x) - math.log(2.0)

    def entropy(self) -> torch.Tensor:
        return self.beta.entropy() + math.log(2.0)

    def deterministic(self) -> torch.Tensor:
        return 2.0 * self.beta.mean - 1.0


class Actor(nn.Module):
    """The stations' policy on their own observations.

    ``"gaussian"``: mean from the network, a learned log-std per agent, unbounded samples
    that the environment clips to [-1, 1]. ``"beta"``: the network gives both shape
    parameters (``1 + softplus``, so the density is unimodal) of a Beta on [-1, 1].
    The deterministic action is the distribution's mean.
    """

    def __init__(
        self,
        n_agents: int,
        obs_dim: int,
        hidden: tuple[int, ...],
        shared: bool,
        init_log_std: float,
        distribution: str = "gaussian",
    ):
        super().__init__()
        self.kind = distribution
        self.inputs = AgentInputs(n_agents, shared)
        outputs = 1 if distribution == "gaussian" else 2
        self.body = mlp(1 if shared else n_agents, obs_dim + self.inputs.extra, hidden, outputs, 0.01)
        self.log_std = nn.Parameter(torch.full((n_agents, 1), float(init_log_std)))  # unused by "beta"

    def distribution(self, obs: torch.Tensor) -> GaussianAction | BetaAction:
        out = self.body(self.inputs(obs))  # (batch, N, 1 or 2)
        if self.kind == "gaussian":
            return GaussianAction(out, self.log_std.exp().expand_as(out))
        shape = 1.0 + nn.functional.softplus(out)
        return BetaAction(shape[..., :1], shape[..., 1:])

    def mean(self, obs: torch.Tensor) -> torch.Tensor:
        """(batch, N, 1) deterministic actions."""
        return self.distribution(obs).deterministic()


class Critic(nn.Module):
    """Value of each agent: from the global state (MAPPO, ``(batch, F)`` broadcast to every
    agent) or from the agent's own observation (IPPO, ``(batch, N, D)``)."""

    def __init__(self, n_agents: int, in_dim: int, hidden: tuple[int, ...], shared: bool, centralised: bool):
        super().__init__()
        self.n_agents = n_agents
        self.centralised = centralised
        self.inputs = AgentInputs(n_agents, shared)
        self.body = mlp(1 if shared else n_agents, in_dim + self.inputs.extra, hidden, 1, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # -> (batch, N)
        if self.centralised:
            x = x.unsqueeze(1).expand(-1, self.n_agents, -1)
        return self.body(self.inputs(x)).squeeze(-1)
