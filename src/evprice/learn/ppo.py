"""The PPO clipped surrogate and value losses (Schulman et al. 2017), as pure functions."""

from __future__ import annotations

from typing import NamedTuple

import torch


class PPOLosses(NamedTuple):
    """Each a scalar, or (K,) one per seed with ``per_seed``."""

    policy: torch.Tensor  # to minimise
    value: torch.Tensor  # to minimise (half the mean squared error)
    approx_kl: torch.Tensor  # E[(r - 1) - log r], for diagnostics
    clip_fraction: torch.Tensor  # share of samples whose ratio was clipped


def ppo_losses(
    new_logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    new_values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    clip_coef: float,
    clip_value: bool = False,
    per_seed: bool = False,
) -> PPOLosses:
    """Losses of one minibatch (all tensors of one shape).

    With ``per_seed`` axis 0 of every tensor is the training seed and each loss is a (K,)
    mean over the other axes: seed ``k``'s loss depends on seed ``k``'s samples alone.

    Policy: ``-E[min(r A, clip(r, 1 - eps, 1 + eps) A)]`` with ``r = exp(new - old)``.
    Value: ``0.5 E[(V - R)^2]``, or with ``clip_value`` the larger of that and the error of
    ``V_old + clip(V - V_old, -eps, eps)``. Advantages are used as given (normalise them
    before calling if wanted).
    """
    log_ratio = new_logp - old_logp
    ratio = log_ratio.exp()
    surrogate = torch.min(ratio * advantages, ratio.clamp(1.0 - clip_coef, 1.0 + clip_coef) * advantages)
    error = (new_values - returns) ** 2
    if clip_value:
        clipped = old_values + (new_values - old_values).clamp(-clip_coef, clip_coef)
        error = torch.max(error, (clipped - returns) ** 2)
    dims = tuple(range(1, ratio.dim())) if per_seed else tuple(range(ratio.dim()))
    mean = lambda x: x.mean(dim=dims)  # noqa: E731
    with torch.no_grad():
        approx_kl = mean((ratio - 1.0) - log_ratio)
        clip_fraction = mean(((ratio - 1.0).abs() > clip_coef).float())
    return PPOLosses(-mean(surrogate), 0.5 * mean(error), approx_kl, clip_fraction)


LOSS_METRICS = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")


def normalise_advantages(adv: torch.Tensor) -> torch.Tensor:
    """``adv`` (K, ...) standardised per seed over its other axes; a seed's one-sample
    minibatch has no spread to normalise by and is left as it is."""
    if adv[0].numel() <= 1:
        return adv
    dims = tuple(range(1, adv.dim()))
    return (adv - adv.mean(dim=dims, keepdim=True)) / (adv.std(dim=dims, keepdim=True) + 1e-8)


def explained_variance(returns: torch.Tensor, values: torch.Tensor) -> list[float | None]:
    """Per seed (axis 0): ``1 - Var(returns - values) / Var(returns)`` over the other axes, the
    share of the value targets' variance the critic explains (1 perfect, 0 no better than a
    constant, negative worse); None where the targets do not vary."""
    y = returns.reshape(returns.shape[0], -1).double()
    v = values.reshape(values.shape[0], -1).double()
    var_y = y.var(dim=1)
    out = 1.0 - (y - v).var(dim=1) / var_y
    return [None if float(var_y[k]) == 0.0 else float(out[k]) for k in range(len(out))]
