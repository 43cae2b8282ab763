"""Actor and critic networks for N stations and K independent training seeds at once.

Both are multilayer perceptrons with tanh hidden layers applied to every seed and agent at
once: per seed, ``G = 1`` group of weights (shared; each agent's input carries its one-hot
id) or ``G = N`` groups (one network per agent); every layer is one batched matmul over the
seeds (and agents). Inputs are ``(K, batch, N, in)``; outputs ``(K, batch, N, out)``. Seeds
share no parameter, no random draw and no reduction: seed ``k``'s numbers depend on seed
``k``'s weights, inputs and generator only. A one-seed network (``K = 1``) is what a
checkpoint stores without the seed axis (:func:`seed_state`, :func:`load_seed_state`).

:class:`GroupedLinear` (``G`` layers over one axis, no seed axis) is the ensemble's layer.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
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


class StackedLinear(nn.Module):
    """``K`` seeds x ``G`` groups of independent linear layers: the PPO networks' layer.

    Weights are ``(K, G, in, out)``, biases ``(K, G, 1, out)``; inputs ``(K, batch, N, in)``
    map to ``(K, batch, N, out)``. ``G = 1``: one layer shared by the ``N`` agents of a seed
    (one ``baddbmm`` over seeds); ``G = N``: one layer per agent (one ``bmm`` over seeds x
    agents). Seed ``k``'s weights are drawn from ``generators[k]`` alone (orthogonal, gain
    ``gain``), so a seed's network does not depend on the seeds beside it.
    """

    def __init__(
        self, seeds: int, groups: int, n_in: int, n_out: int, gain: float, generators: list[torch.Generator] | None
    ) -> None:
        super().__init__()
        weight = torch.empty(seeds, groups, n_in, n_out)
        for k in range(seeds):
            for g in range(groups):
                nn.init.orthogonal_(weight[k, g], gain=gain, generator=None if generators is None else generators[k])
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(torch.zeros(seeds, groups, 1, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (K, batch, N, in) -> (K, batch, N, out)
        k, b, n, i = x.shape
        w = self.weight
        if w.shape[1] == 1:
            return torch.baddbmm(self.bias[:, 0], x.reshape(k, b * n, i), w[:, 0]).reshape(k, b, n, -1)
        per_agent = x.transpose(1, 2).reshape(k * n, b, i)  # (K N, batch, in)
        out = torch.baddbmm(self.bias.reshape(k * n, 1, -1), per_agent, w.reshape(k * n, i, -1))
        return out.reshape(k, n, b, -1).transpose(1, 2)


class _SigmoidTanh(torch.autograd.Function):
    """``tanh(x) = 2 sigmoid(2 x) - 1``, with tanh's gradient ``1 - tanh(x)^2``.

    The same function as ``torch.tanh`` (to float32 rounding: an absolute error below 1e-7),
    computed about three times faster on CPUs where torch's vectorised tanh is slow
    (measured here: 3.6 ms against 1.0 ms for 1M float32 values on one thread).
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        # in place: the layers before it (baddbmm) keep no copy of their output for backward
        y = torch.sigmoid_(x.mul_(2.0)).mul_(2.0).sub_(1.0)
        ctx.mark_dirty(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (y,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, y)


class Tanh(nn.Module):
    """The hidden layers' activation: :class:`_SigmoidTanh`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # it overwrites its input: a layer's fresh output, never a leaf the caller still holds
        return _SigmoidTanh.apply(x.clone() if x.is_leaf else x)


def stacked_mlp(
    seeds: int,
    groups: int,
    n_in: int,
    hidden: tuple[int, ...],
    n_out: int,
    out_gain: float,
    generators: list[torch.Generator] | None,
) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [StackedLinear(seeds, groups, width, h, math.sqrt(2.0), generators), Tanh()]
        width = h
    layers.append(StackedLinear(seeds, groups, width, n_out, out_gain, generators))
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (K, batch, N, in) -> (K, batch, N, in [+ N])
        if not self.shared:
            return x
        return torch.cat([x, self.eye.expand(x.shape[0], x.shape[1], -1, -1)], dim=-1)


def _noise(shape: torch.Size, generators: list[torch.Generator], device: torch.device, draw) -> torch.Tensor:
    """``draw(seed_shape, generator)`` for each seed ``k`` (axis 0 of ``shape``) from its own generator."""
    return torch.stack([draw(shape[1:], g) for g in generators]).to(device)


class GaussianAction:
    """Unbounded Gaussian actions (the environment clips them to [-1, 1])."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.normal = torch.distributions.Normal(mean, std, validate_args=False)

    def sample(self, generators: list[torch.Generator]) -> torch.Tensor:
        """A sample; seed ``k`` (axis 0) draws from ``generators[k]``."""
        mean = self.normal.mean
        noise = _noise(mean.shape, generators, mean.device, lambda s, g: torch.randn(s, generator=g))
        return mean + self.normal.stddev * noise

    def log_prob(self, action: torch.Tensor) -> torch.Tensor:
        return self.normal.log_prob(action)

    def entropy(self) -> torch.Tensor:
        return self.normal.entropy()

    def deterministic(self) -> torch.Tensor:
        return self.normal.mean

    def stddev(self) -> torch.Tensor:
        """The policy's own spread in action units (not the spread of a batch of samples)."""
        return self.normal.stddev


class BetaAction:
    """Beta actions on [-1, 1] (Chou et al. 2017): no probability mass beyond the bounds, so
    no clipping bias when the best price lies at or near a bound."""

    EPS = 1e-6

    def __init__(self, alpha: torch.Tensor, beta: torch.Tensor) -> None:
        self.beta = torch.distributions.Beta(alpha, beta, validate_args=False)

    def sample(self, generators: list[torch.Generator]) -> torch.Tensor:
        """A sample ``2 X / (X + Y) - 1`` with ``X ~ Gamma(alpha)``, ``Y ~ Gamma(beta)``; seed
        ``k`` (axis 0) draws from ``generators[k]``."""
        a, b = self.beta.concentration1, self.beta.concentration0
        gens = [g for g in generators for _ in (0, 1)]  # each seed: its alpha draw, then its beta draw
        shapes = torch.stack([a, b], dim=1).reshape((-1,) + a.shape[1:]).cpu()  # (K 2, ...)
        gamma = torch.stack([torch._standard_gamma(s, generator=g) for s, g in zip(shapes, gens)])
        gamma = gamma.reshape((a.shape[0], 2) + a.shape[1:]).to(a.device)
        x, y = gamma[:, 0], gamma[:, 1]
        return 2.0 * (x / (x + y)).clamp(0.0, 1.0) - 1.0

    def log_prob(self, action: torch.Tensor) -> torch.Tensor:
        x = ((action + 1.0) / 2.0).clamp(self.EPS, 1.0 - self.EPS)
        return self.beta.log_prob(x) - math.log(2.0)

    def entropy(self) -> torch.Tensor:
        return self.beta.entropy() + math.log(2.0)

    def deterministic(self) -> torch.Tensor:
        return 2.0 * self.beta.mean - 1.0

    def stddev(self) -> torch.Tensor:
        """The policy's own spread in action units: twice the Beta's standard deviation."""
        return 2.0 * self.beta.variance.sqrt()


class Actor(nn.Module):
    """The stations' policy on their own observations, for ``seeds`` independent runs at once.

    ``"gaussian"``: mean from the network, a learned log-std per seed and agent, unbounded
    samples that the environment clips to [-1, 1]. ``"beta"``: the network gives both shape
    parameters (``1 + softplus``, so the density is unimodal) of a Beta on [-1, 1].
    The deterministic action is the distribution's mean. Inputs ``(K, batch, N, D)``;
    seed ``k``'s initial weights come from ``generators[k]`` (torch's global generator when
    None). Actions are ``(K, batch, N, A)``: ``action_dim = A`` columns per agent (1 without
    a coordination protocol); ``action_mask`` (N, A) says which columns each agent's action
    uses (:attr:`evprice.envs.MarketEnv.action_mask`): :meth:`log_prob` and :meth:`entropy`
    count only those, so a padding column's noise never moves the policy.
    """

    def __init__(
        self,
        n_agents: int,
        obs_dim: int,
        hidden: tuple[int, ...],
        shared: bool,
        init_log_std: float,
        distribution: str = "gaussian",
        seeds: int = 1,
        generators: list[torch.Generator] | None = None,
        action_dim: int = 1,
        action_mask: np.ndarray | None = None,
    ):
        super().__init__()
        self.kind = distribution
        self.seeds = seeds
        self.action_dim = int(action_dim)
        self.inputs = AgentInputs(n_agents, shared)
        outputs = self.action_dim if distribution == "gaussian" else 2 * self.action_dim
        groups = 1 if shared else n_agents
        self.body = stacked_mlp(seeds, groups, obs_dim + self.inputs.extra, hidden, outputs, 0.01, generators)
        log_std = torch.full((seeds, n_agents, self.action_dim), float(init_log_std))
        self.log_std = nn.Parameter(log_std)  # unused by "beta"
        mask = np.ones((n_agents, self.action_dim), dtype=bool) if action_mask is None else np.asarray(action_mask)
        if mask.shape != (n_agents, self.action_dim):
            raise ValueError(f"action_mask has shape {mask.shape}; expected {(n_agents, self.action_dim)}")
        self._masked = not mask.all()
        self.register_buffer("action_mask", torch.as_tensor(mask, dtype=torch.float32), persistent=False)

    def distribution(self, obs: torch.Tensor) -> GaussianAction | BetaAction:
        out = self.body(self.inputs(obs))  # (K, batch, N, 1 or 2)
        if self.kind == "gaussian":
            return GaussianAction(out, self.log_std.exp().unsqueeze(1).expand_as(out))
        shape = 1.0 + nn.functional.softplus(out)
        return BetaAction(shape[..., : self.action_dim], shape[..., self.action_dim :])

    def log_prob(self, dist: GaussianAction | BetaAction, action: torch.Tensor) -> torch.Tensor:
        """(K, batch, N) log-density of ``action`` (K, batch, N, A) over the columns each agent uses."""
        per_column = dist.log_prob(action)
        return (per_column * self.action_mask if self._masked else per_column).sum(-1)

    def spread(self, dist: GaussianAction | BetaAction) -> torch.Tensor:
        """(K,) the policy's own spread in action units, averaged over the columns the agents use."""
        std = dist.stddev()
        if not self._masked:
            return std.mean(dim=(1, 2, 3))
        return (std * self.action_mask).sum(dim=(1, 2, 3)) / (self.action_mask.sum() * std.shape[1])

    def entropy(self, dist: GaussianAction | BetaAction) -> torch.Tensor:
        """(K, batch, N) entropy over the columns each agent uses."""
        per_column = dist.entropy()
        return (per_column * self.action_mask if self._masked else per_column).sum(-1)

    def mean(self, obs: torch.Tensor) -> torch.Tensor:
        """(K, batch, N, A) deterministic actions."""
        return self.distribution(obs).deterministic()


class Critic(nn.Module):
    """Value of each agent, for ``seeds`` runs at once: from the global state (MAPPO,
    ``(K, batch, F)`` broadcast to every agent) or from the agent's own observation (IPPO,
    ``(K, batch, N, D)``); ``(K, batch, N)`` out, or ``(K, batch, N, heads)`` with ``heads``
    values per agent (the cost critic: one per constraint)."""

    def __init__(
        self,
        n_agents: int,
        in_dim: int,
        hidden: tuple[int, ...],
        shared: bool,
        centralised: bool,
        seeds: int = 1,
        generators: list[torch.Generator] | None = None,
        heads: int | None = None,
    ):
        super().__init__()
        self.n_agents = n_agents
        self.centralised = centralised
        self.heads = heads
        self.inputs = AgentInputs(n_agents, shared)
        groups = 1 if shared else n_agents
        self.body = stacked_mlp(seeds, groups, in_dim + self.inputs.extra, hidden, heads or 1, 1.0, generators)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # -> (K, batch, N) or (K, batch, N, heads)
        if self.centralised:
            x = x.unsqueeze(2).expand(-1, -1, self.n_agents, -1)
        out = self.body(self.inputs(x))
        return out.squeeze(-1) if self.heads is None else out


def seed_state(module: nn.Module, k: int) -> dict[str, torch.Tensor]:
    """Seed ``k``'s part of ``module``'s state: every parameter's slice ``[k]`` (the shapes of a
    one-seed network without its seed axis, as checkpoints store them) and the buffers."""
    params = {name for name, _ in module.named_parameters()}
    return {
        name: (value[k] if name in params else value).detach().clone() for name, value in module.state_dict().items()
    }


def load_seed_state(module: nn.Module, k: int, state: dict[str, torch.Tensor]) -> None:
    """Put a checkpoint's one-seed ``state`` (:func:`seed_state`) into seed ``k`` of ``module``.

    Raises ``ValueError`` naming the entry when a shape or name does not fit."""
    params = dict(module.named_parameters())
    missing = sorted(set(params) - set(state))
    if missing:
        raise ValueError(f"the state has no {missing}")
    with torch.no_grad():
        for name, p in params.items():
            value = torch.as_tensor(state[name])
            if value.shape != p.shape[1:]:
                raise ValueError(f"{name} has shape {tuple(value.shape)}; this network needs {tuple(p.shape[1:])}")
            p[k].copy_(value)
