"""The policy interface shared by baselines, solvers and trained agents.

A policy maps a batch of observations ``(B, N, D)`` to a batch of normalised actions
``(B, N, 1)`` in ``[-1, 1]`` (the environment scales them to prices). ``reset(seed)``
starts a new run; a stochastic policy draws only from its own seeded generator.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Policy(Protocol):
    name: str

    def reset(self, seed: int | None = None) -> None: ...

    def __call__(self, obs: np.ndarray) -> np.ndarray: ...
