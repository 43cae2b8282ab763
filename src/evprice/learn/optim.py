"""Adam and gradient-norm clipping per training seed, for parameters with a leading seed axis.

K seeds stacked in one tensor must not share anything an optimiser computes: not the
gradient norm that clipping divides by, and not the step count, since a seed whose epochs
stop early (``target_kl``) skips updates that the others make. :class:`SeedAdam` is
Adam (Kingma and Ba 2015; the arithmetic of ``torch.optim.Adam``'s default single-tensor
path) with one step count per seed and a mask of the seeds that step;
:func:`clip_grad_norm_per_seed` is ``torch.nn.utils.clip_grad_norm_`` per seed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


def _per_seed(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``x`` (K,) shaped to broadcast against ``like`` (K, ...)."""
    return x.reshape((-1,) + (1,) * (like.dim() - 1))


def clip_grad_norm_per_seed(params: Iterable[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Scale each seed's gradients (axis 0 of every parameter) so that their joint 2-norm is
    at most ``max_norm``; returns the (K,) norms before clipping (torch's rule: the factor is
    ``min(1, max_norm / (norm + 1e-6))``)."""
    grads = [p.grad for p in params if p.grad is not None]
    squares = torch.stack([g.pow(2).reshape(g.shape[0], -1).sum(dim=1) for g in grads]).sum(dim=0)
    norms = squares.sqrt()
    factor = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(_per_seed(factor, g))
    return norms


class SeedAdam:
    """Adam over parameters whose axis 0 is the seed, one step count per seed.

    ``step(active)`` updates the seeds where ``active`` (K,) is true and leaves the others'
    parameters and moments untouched. ``seed_state(k)`` is seed ``k``'s state in the format
    of ``torch.optim.Adam.state_dict()`` for the one-seed parameters (what a checkpoint
    stores); ``load_seed_state`` reads it back.
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        seeds: int,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        for p in self.params:
            if p.shape[0] != seeds:
                raise ValueError(f"a parameter of shape {tuple(p.shape)} has no leading axis of {seeds} seeds")
        self.seeds = seeds
        self.lr = float(lr)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.steps = torch.zeros(seeds, dtype=torch.float64)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, active: torch.Tensor | None = None) -> None:
        """One Adam step for the seeds where ``active`` (K,) bool is true (all when None)."""
        b1, b2 = self.betas
        on = torch.ones(self.seeds, dtype=torch.bool) if active is None else active.to("cpu", torch.bool)
        self.steps += on.to(torch.float64)
        t = self.steps.clamp(min=1.0)  # seeds that never stepped are masked out below
        step_size = (self.lr / (1.0 - b1**t)).to(self.params[0].dtype)  # (K,)
        bc2_sqrt = (1.0 - b2**t).sqrt().to(self.params[0].dtype)
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
            if p.grad is None:
                continue
            g = p.grad
            mask = _per_seed(on.to(p.device), p)
            m.copy_(torch.where(mask, torch.lerp(m, g, 1.0 - b1), m))
            v.copy_(torch.where(mask, torch.addcmul(v * b2, g, g, value=1.0 - b2), v))
            denom = v.sqrt() / _per_seed(bc2_sqrt.to(p.device), p) + self.eps
            update = _per_seed(step_size.to(p.device), p) * (m / denom)
            p.sub_(torch.where(mask, update, torch.zeros_like(update)))

    def seed_state(self, k: int) -> dict[str, Any]:
        """Seed ``k``'s state as ``torch.optim.Adam.state_dict()`` of the one-seed parameters."""
        state = {
            i: {"step": torch.tensor(float(self.steps[k])), "exp_avg": m[k].clone(), "exp_avg_sq": v[k].clone()}
            for i, (m, v) in enumerate(zip(self.exp_avg, self.exp_avg_sq))
        }
        group = {"lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": 0, "amsgrad": False}
        return {"state": state, "param_groups": [{**group, "params": list(range(len(self.params)))}]}

    def load_seed_state(self, k: int, state: dict[str, Any]) -> None:
        """Read seed ``k``'s state (:meth:`seed_state`, or a ``torch.optim.Adam`` state dict of
        the same parameters); raises ``ValueError`` when it does not fit."""
        entries = state["state"]
        if len(entries) != len(self.params):
            raise ValueError(
                f"the optimiser state holds {len(entries)} parameters; this network has {len(self.params)}"
            )
        steps = set()
        for i, (m, v) in enumerate(zip(self.exp_avg, self.exp_avg_sq)):
            entry = entries[i] if i in entries else entries[str(i)]
            if tuple(entry["exp_avg"].shape) != tuple(m.shape[1:]):
                raise ValueError(
                    f"optimiser moment {i} has shape {tuple(entry['exp_avg'].shape)}, not {tuple(m.shape[1:])}"
                )
            m[k].copy_(entry["exp_avg"])
            v[k].copy_(entry["exp_avg_sq"])
            steps.add(float(entry["step"]))
        if len(steps) != 1:
            raise ValueError(f"the optimiser state's parameters made different numbers of steps: {sorted(steps)}")
        self.steps[k] = steps.pop()
