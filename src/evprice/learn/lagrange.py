"""The Lagrangian part of MAPPO- and IPPO-Lagrangian, as small pure pieces.

A constrained run maximises the expected return subject to ``E[episode cost_c] <= d_c`` for
each constraint ``c`` (Altman's constrained MDP). PPO-Lagrangian (Ray et al. 2019; for many
agents MAPPO-Lagrangian, Gu et al. 2023) solves the saddle point
``max_pi min_{lambda >= 0} J_R - sum_c lambda_c (J_C_c - d_c)``: the policy follows the
combined advantage :func:`lagrangian_advantages`, and each multiplier moves with the
measured episode cost (:class:`Multipliers`).

* :func:`constraint_costs`: each period's cost per constraint, from an environment's
  ``info``: ``"total"`` is ``info["cost"]``; ``"voltage"``, ``"line"`` and ``"carbon"`` are
  the grid's own terms (``info["grid"]["cost_voltage"]`` ...), each an indicator (1 in a
  period where that term is above 0) when the grid's ``cost_form`` is ``"indicator"``, so
  that each constraint counts its own violating periods.
* :class:`Multipliers`: ``lambda`` per seed and constraint. The ``"plain"`` rule is projected
  dual ascent, ``lambda <- max(0, lambda + lr (J_C - d))``; ``"pid"`` is PID-Lagrangian
  (Stooke, Achiam and Abbeel 2020, their Algorithm 2), which damps the plain rule's
  oscillation: ``I <- max(0, I + ki (J_C - d))``, ``lambda = max(0, kp (J_C - d) + I +
  kd max(0, J_C - J_C_prev))``, with ``ki = lr``. With ``kp = kd = 0`` the two rules are one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from evprice.learn.gae import gae

GRID_TERMS = {"voltage": "cost_voltage", "line": "cost_line", "carbon": "cost_carbon"}
"""Constraint name -> the entry of ``info["grid"]`` that holds its term, (B,) per period."""


def constraint_costs(info: Mapping[str, Any], terms: Sequence[str], indicator: bool) -> np.ndarray:
    """(B, C) cost of the period just stepped for each of ``terms`` (C of them).

    ``info`` is one batched environment's step info: ``info["cost"]`` (B, N), the same for
    every station, and with a grid ``info["grid"]`` whose terms are (B,). ``indicator``: each
    grid term becomes 1.0 where it is above 0 (the grid's ``cost_form="indicator"``)."""
    columns = []
    for term in terms:
        if term == "total":
            columns.append(np.asarray(info["cost"], dtype=np.float64)[:, 0])
            continue
        grid = info.get("grid")
        if grid is None:
            raise KeyError(f"constraint {term!r} needs a grid coupling; this environment has none (use 'total')")
        value = np.asarray(grid[GRID_TERMS[term]], dtype=np.float64)
        columns.append((value > 0.0).astype(np.float64) if indicator else value)
    return np.stack(columns, axis=1)


def cost_gae(
    costs: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    last_values: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The cost critic's advantages and targets: GAE (:func:`~evprice.learn.gae.gae`) of the raw
    costs, per station and constraint.

    Args:
        costs: (K, T, B, C) each period's cost of each constraint, the same for every station.
        values: (K, T, B, N, C) the cost critic's value of each period's starting state.
        dones: (K, T, B, 1) 1 where the episode ended with that period.
        last_values: (K, B, N, C) the value of the state after the last period.

    Returns ``(advantages, targets)``, each (K, T, B, N, C)."""
    n = values.shape[3]
    by_time = lambda x: x.transpose(0, 1)  # noqa: E731  (T, K, ...) for GAE
    shared = costs.unsqueeze(3).expand(-1, -1, -1, n, -1)
    adv, ret = gae(by_time(shared), by_time(values), by_time(dones.unsqueeze(-1)), last_values, gamma, lam)
    return by_time(adv), by_time(ret)


def center_per_seed(adv: torch.Tensor) -> torch.Tensor:
    """``adv`` (K, ..., C) less its mean per seed and constraint over the middle axes.

    Cost advantages are centred but not divided by their spread (as OmniSafe does): a
    constraint that is almost never violated has a tiny spread, and dividing by it would
    blow its noise up to the reward's scale."""
    dims = tuple(range(1, adv.dim() - 1))
    return adv - adv.mean(dim=dims, keepdim=True)


def lagrangian_advantages(reward_adv: torch.Tensor, cost_adv: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """The advantage PPO-Lagrangian's policy follows, (K, ...).

    ``(A_R - sum_c lambda_c A_C_c) / (1 + sum_c lambda_c)`` with ``reward_adv`` (K, ...),
    ``cost_adv`` (K, ..., C) and ``lam`` (K, C). Dividing by ``1 + sum lambda`` keeps the
    advantage's scale, and so the clipped step's size, as the multipliers grow."""
    shape = (lam.shape[0],) + (1,) * (reward_adv.dim() - 1) + (lam.shape[1],)
    lam_b = lam.reshape(shape).to(reward_adv.dtype)
    penalty = (lam_b * cost_adv).sum(-1)
    return (reward_adv - penalty) / (1.0 + lam_b.sum(-1))


class Multipliers:
    """The Lagrange multipliers of K seeds x C constraints, each seed on its own measurements.

    Args:
        limits: (C,) permitted episode cost of each constraint.
        seeds: K.
        rule: ``"plain"`` or ``"pid"`` (module docstring).
        lr: the plain step (the integral gain ``ki`` under ``"pid"``), per unit of excess cost.
        kp, kd: PID gains (0 under ``"plain"``).
        init: every multiplier's first value (the integral's, under ``"pid"``).
    """

    def __init__(
        self,
        limits: Sequence[float],
        seeds: int,
        rule: str = "plain",
        lr: float = 0.05,
        kp: float = 0.0,
        kd: float = 0.0,
        init: float = 0.0,
    ) -> None:
        if rule not in ("plain", "pid"):
            raise ValueError(f"multiplier rule {rule!r} is not 'plain' or 'pid'")
        self.limits = np.asarray(limits, dtype=np.float64)
        self.rule = rule
        self.lr = float(lr)
        self.kp, self.kd = (0.0, 0.0) if rule == "plain" else (float(kp), float(kd))
        c = len(self.limits)
        self.integral = np.full((seeds, c), float(init))  # (K, C) the multiplier itself under 'plain'
        self.value = self.integral.copy()  # (K, C)
        self.last_cost = np.full((seeds, c), np.nan)  # (K, C) the previous measurement (NaN: none yet)

    def update(self, episode_cost: np.ndarray, measured: np.ndarray | None = None) -> np.ndarray:
        """Move each seed's multipliers with its measured mean episode cost (K, C); a seed with
        ``measured[k]`` False (no episode ended) keeps its own. Returns the new (K, C)."""
        cost = np.asarray(episode_cost, dtype=np.float64)
        mask = np.ones(cost.shape[0], dtype=bool) if measured is None else np.asarray(measured, dtype=bool)
        excess = cost - self.limits
        integral = np.maximum(0.0, self.integral + self.lr * excess)
        rise = np.where(np.isnan(self.last_cost), 0.0, np.maximum(0.0, cost - self.last_cost))
        value = np.maximum(0.0, self.kp * excess + integral + self.kd * rise)
        self.integral = np.where(mask[:, None], integral, self.integral)
        self.value = np.where(mask[:, None], value, self.value)
        self.last_cost = np.where(mask[:, None], cost, self.last_cost)
        return self.value

    def seed_state(self, k: int) -> dict[str, list[float]]:
        """Seed ``k``'s multipliers as plain lists, for a checkpoint."""
        return {
            "integral": self.integral[k].tolist(),
            "value": self.value[k].tolist(),
            "last_cost": [None if np.isnan(x) else float(x) for x in self.last_cost[k]],
        }

    def load_seed_state(self, k: int, state: Mapping[str, Any]) -> None:
        """Put :meth:`seed_state`'s lists back into seed ``k``."""
        c = len(self.limits)
        for key in ("integral", "value", "last_cost"):
            if len(state[key]) != c:
                raise ValueError(f"the multipliers' {key} has {len(state[key])} constraints; this run has {c}")
        self.integral[k] = state["integral"]
        self.value[k] = state["value"]
        self.last_cost[k] = [np.nan if x is None else x for x in state["last_cost"]]
