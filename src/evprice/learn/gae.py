"""Generalised advantage estimation (Schulman et al. 2016), as a pure function."""

from __future__ import annotations

import torch


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    last_values: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and value targets of a rollout.

    Args:
        rewards: (T, ...) reward of each step.
        values: (T, ...) value estimate of the state each step started from.
        dones: (T, ...) 1 where the episode ended with that step (no bootstrap past it),
            broadcastable against ``rewards``.
        last_values: (...) value of the state after the last step.
        gamma: discount; lam: GAE lambda.

    Returns:
        ``(advantages, returns)``, each (T, ...): ``A_t = sum_k (gamma lam)^k delta_{t+k}``
        within the episode, with ``delta_t = r_t + gamma (1 - d_t) V_{t+1} - V_t``, and
        ``returns = A + V``.
    """
    steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    next_adv = torch.zeros_like(last_values)
    next_value = last_values
    for t in reversed(range(steps)):
        alive = 1.0 - dones[t].to(rewards.dtype)
        delta = rewards[t] + gamma * alive * next_value - values[t]
        next_adv = delta + gamma * lam * alive * next_adv
        advantages[t] = next_adv
        next_value = values[t]
    return advantages, advantages + values
