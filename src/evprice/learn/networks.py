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


class Actor(nn.Module):
    """Gaussian policy: mean from the agent's observation, a learned log-std per agent.

    Actions are unbounded samples; the environment clips them to [-1, 1].
    """

    def __init__(self, n_agents: int, obs_dim: int, hidden: tuple[int, ...], shared: bool, init_log_std: float):
        super().__init__()
        self.inputs = AgentInputs(n_agents, shared)
        self.body = mlp(1 if shared else n_agents, obs_dim + self.inputs.extra, hidden, 1, 0.01)
        self.log_std = nn.Parameter(torch.full((n_agents, 1), float(init_log_std)))

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Normal:
        mean = self.body(self.inputs(obs))  # (batch, N, 1)
        return torch.distributions.Normal(mean, self.log_std.exp().expand_as(mean))

    def mean(self, obs: torch.Tensor) -> torch.Tensor:
        return self.body(self.inputs(obs))


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
