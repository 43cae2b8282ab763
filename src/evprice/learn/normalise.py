"""Running statistics for observation and reward normalisation (numpy; saved in checkpoints).

Each normaliser may carry a leading seed axis (``seeds=K``): K independent sets of
statistics, seed ``k`` updated only from seed ``k``'s slice of each batch, so K training
runs share the arithmetic but no numbers. ``seed_state(k)`` / ``load_seed_state(k, ...)``
read and write one seed's statistics in the format of a one-seed normaliser (what a
checkpoint stores).
"""

from __future__ import annotations

from typing import Any

import numpy as np

CLIP = 10.0
"""Normalised observations are clipped to ``[-CLIP, CLIP]``."""


class RunningMeanStd:
    """Mean and variance of a stream of batches (Chan et al.'s parallel update).

    Without ``seeds``, batches are ``(..., *shape)``. With ``seeds=K`` the statistics are
    ``(K, *shape)`` and batches ``(K, ..., *shape)``: seed ``k``'s statistics see only
    ``batch[k]``.
    """

    def __init__(self, shape: tuple[int, ...], epsilon: float = 1e-4, seeds: int | None = None) -> None:
        self.shape = tuple(shape)
        self.seeds = seeds
        lead = () if seeds is None else (seeds,)
        self.mean = np.zeros(lead + self.shape)
        self.var = np.ones(lead + self.shape)
        self.count = np.full(lead, epsilon, dtype=np.float64)  # () or (K,)

    def update(self, batch: np.ndarray) -> None:
        lead = () if self.seeds is None else (self.seeds,)
        axis = len(lead)
        x = np.asarray(batch, dtype=np.float64).reshape(lead + (-1,) + self.shape)
        b_mean, b_var, b_count = x.mean(axis=axis), x.var(axis=axis), x.shape[axis]
        count = self.count.reshape(lead + (1,) * len(self.shape))
        delta = b_mean - self.mean
        total = count + b_count
        self.mean = self.mean + delta * b_count / total
        m2 = self.var * count + b_var * b_count + delta**2 * count * b_count / total
        self.var = m2 / total
        self.count = self.count + b_count

    def _at(self, k: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if k is None:
            return self.mean, self.var, self.count
        return self.mean[k], self.var[k], self.count[k]

    def seed_state(self, k: int | None = None) -> dict[str, Any]:
        """Seed ``k``'s statistics (all of them without a seed axis), as plain lists."""
        mean, var, count = self._at(k)
        return {"mean": mean.tolist(), "var": var.tolist(), "count": float(count)}

    def load_seed_state(self, k: int | None, state: dict[str, Any]) -> None:
        mean = np.asarray(state["mean"], dtype=np.float64).reshape(self.shape)
        var = np.asarray(state["var"], dtype=np.float64).reshape(self.shape)
        if k is None:
            self.mean, self.var, self.count = mean, var, np.asarray(float(state["count"]))
        else:
            self.mean[k], self.var[k], self.count[k] = mean, var, float(state["count"])

    def state_dict(self) -> dict[str, Any]:
        return self.seed_state(None)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.load_seed_state(None, state)


def _lead(stat: np.ndarray, x: np.ndarray, seeds: int | None, shape: tuple[int, ...]) -> np.ndarray:
    """``stat`` (``(K, *shape)`` or ``shape``) shaped to broadcast against ``x`` (``(K, ..., *shape)``)."""
    if seeds is None:
        return stat
    return stat.reshape((seeds,) + (1,) * (x.ndim - 1 - len(shape)) + shape)


class ObservationNormaliser:
    """Maps raw observations ``(..., *shape)`` (``(K, ..., *shape)`` with ``seeds=K``) to
    roughly zero mean and unit scale.

    ``mode``: ``"running"`` (running mean and std, updated by :meth:`update`), ``"bounds"``
    (the declared bounds ``low``/``high`` mapped to [-1, 1]; a constant field to 0) or
    ``"none"``.
    """

    def __init__(self, mode: str, low: np.ndarray, high: np.ndarray, seeds: int | None = None) -> None:
        self.mode = mode
        self.seeds = seeds
        self.shape = tuple(np.shape(low))
        self.rms = RunningMeanStd(self.shape, seeds=seeds)
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
        mean = _lead(self.rms.mean, x, self.seeds, self.shape)
        var = _lead(self.rms.var, x, self.seeds, self.shape)
        z = (x - mean) / np.sqrt(var + 1e-8)
        return np.clip(z, -CLIP, CLIP).astype(np.float32)

    def seed_state(self, k: int | None = None) -> dict[str, Any]:
        return {"mode": self.mode, "rms": self.rms.seed_state(k)}

    def load_seed_state(self, k: int | None, state: dict[str, Any]) -> None:
        self.rms.load_seed_state(k, state["rms"])

    def state_dict(self) -> dict[str, Any]:
        return self.seed_state(None)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.load_seed_state(None, state)


class RewardScaler:
    """Divides rewards by the running std of each agent's discounted return (as Gymnasium's
    ``NormalizeReward``): keeps the critic's targets near unit scale whatever the currency.
    With ``seeds=K`` rewards are ``(K, B, *shape)`` and each seed has its own statistics."""

    def __init__(self, shape: tuple[int, ...], gamma: float, enabled: bool, seeds: int | None = None) -> None:
        self.enabled = enabled
        self.gamma = gamma
        self.seeds = seeds
        self.shape = tuple(shape)
        self.rms = RunningMeanStd(self.shape, seeds=seeds)
        self._return: np.ndarray | None = None

    def __call__(self, reward: np.ndarray, done: np.ndarray) -> np.ndarray:
        """Scale ``reward`` (``(B, *shape)``, or ``(K, B, *shape)``); ``done`` (``(B,)`` or
        ``(K, B)``) ends each member's return after it."""
        if not self.enabled:
            return np.asarray(reward, dtype=np.float32)
        if self._return is None or self._return.shape != reward.shape:
            self._return = np.zeros_like(reward, dtype=np.float64)
        self._return = self._return * self.gamma + reward
        self.rms.update(self._return)
        self._return[np.asarray(done, dtype=bool)] = 0.0
        var = _lead(self.rms.var, reward, self.seeds, self.shape)
        return (reward / np.sqrt(var + 1e-8)).astype(np.float32)

    def seed_state(self, k: int | None = None) -> dict[str, Any]:
        """Seed ``k``'s statistics and its members' running discounted returns (None before the
        first reward), as plain lists: a resumed run scales the next rewards as the run would have."""
        ret = None if self._return is None else (self._return if k is None else self._return[k]).tolist()
        return {"rms": self.rms.seed_state(k), "return": ret}

    def load_seed_state(self, k: int | None, state: dict[str, Any]) -> None:
        self.rms.load_seed_state(k, state["rms"])
        ret = state.get("return")  # absent from checkpoints written before it was kept
        if ret is None:
            return
        ret = np.asarray(ret, dtype=np.float64)
        if k is None:
            self._return = ret
            return
        if self._return is None or self._return.shape[1:] != ret.shape:
            self._return = np.zeros((self.seeds or 1, *ret.shape))
        self._return[k] = ret

    def state_dict(self) -> dict[str, Any]:
        return self.seed_state(None)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.load_seed_state(None, state)
