"""Running statistics for observation and reward normalisation (numpy; saved in checkpoints)."""

from __future__ import annotations

from typing import Any

import numpy as np

CLIP = 10.0
"""Normalised observations are clipped to ``[-CLIP, CLIP]``."""


class RunningMeanStd:
    """Mean and variance of a stream of batches ``(..., *shape)`` (Chan et al.'s parallel update)."""

    def __init__(self, shape: tuple[int, ...], epsilon: float = 1e-4) -> None:
        self.mean = np.zeros(shape)
        self.var = np.ones(shape)
        self.count = epsilon

    def update(self, batch: np.ndarray) -> None:
        x = np.asarray(batch, dtype=np.float64).reshape((-1,) + self.mean.shape)
        b_mean, b_var, b_count = x.mean(axis=0), x.var(axis=0), x.shape[0]
        delta = b_mean - self.mean
        total = self.count + b_count
        self.mean = self.mean + delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta**2 * self.count * b_count / total
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "var": self.var.tolist(), "count": float(self.count)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean = np.asarray(state["mean"], dtype=np.float64).reshape(self.mean.shape)
        self.var = np.asarray(state["var"], dtype=np.float64).reshape(self.var.shape)
        self.count = float(state["count"])


class ObservationNormaliser:
    """Maps raw observations ``(..., *shape)`` to roughly zero mean and unit scale.

    ``mode``: ``"running"`` (running mean and std, updated by :meth:`update`), ``"bounds"``
    (the declared bounds ``low``/``high`` mapped to [-1, 1]; a constant field to 0) or
    ``"none"``.
    """

    def __init__(self, mode: str, low: np.ndarray, high: np.ndarray) -> None:
        self.mode = mode
        self.rms = RunningMeanStd(low.shape)
        span = np.asarray(high, dtype=np.float64) - low
        self._mid = (np.asarray(high, dtype=np.float64) + low) / 2.0
        self._half = np.where(span > 0, span / 2.0, np.inf)

    def update(self, x: np.ndarray) -> None:
        if self.mode == "running":
            self.rms.update(x)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.mode == "none":
            return np.asarray(x, dtype=np.float32)
        if self.mode == "bounds":
            return ((x - self._mid) / self._half).astype(np.float32)
        z = (x - self.rms.mean) / np.sqrt(self.rms.var + 1e-8)
        return np.clip(z, -CLIP, CLIP).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "rms": self.rms.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rms.load_state_dict(state["rms"])


class RewardScaler:
    """Divides rewards by the running std of each agent's discounted return (as Gymnasium's
    ``NormalizeReward``): keeps the critic's targets near unit scale whatever the currency."""

    def __init__(self, shape: tuple[int, ...], gamma: float, enabled: bool) -> None:
        self.enabled = enabled
        self.gamma = gamma
        self.rms = RunningMeanStd(shape)
        self._return = np.zeros((0,) + shape)

    def __call__(self, reward: np.ndarray, done: np.ndarray) -> np.ndarray:
        """Scale ``reward`` (B, *shape); ``done`` (B,) ends each member's return after it."""
        if not self.enabled:
            return np.asarray(reward, dtype=np.float32)
        if self._return.shape[0] != reward.shape[0]:
            self._return = np.zeros_like(reward, dtype=np.float64)
        self._return = self._return * self.gamma + reward
        self.rms.update(self._return)
        self._return[np.asarray(done, dtype=bool)] = 0.0
        return (reward / np.sqrt(self.rms.var + 1e-8)).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        return {"rms": self.rms.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rms.load_state_dict(state["rms"])
