"""A replay buffer of transitions for model learning (numpy; saved in checkpoints)."""

from __future__ import annotations

from typing import Any

import numpy as np

FIELDS = ("obs", "act", "reward", "cost", "next_obs", "done")


class ReplayBuffer:
    """The last ``capacity`` transitions ``(obs (D,), act (A,), reward, cost, next_obs (D,), done)``.

    When full, the oldest transition is overwritten (first in, first out). ``data()`` returns
    the stored transitions in the order they were added.
    """

    def __init__(self, capacity: int, obs_dim: int, act_dim: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 1:
            raise ValueError(f"capacity={capacity!r} is invalid: expected a positive integer")
        self.capacity = int(capacity)
        self._arrays = {
            "obs": np.zeros((capacity, obs_dim)),
            "act": np.zeros((capacity, act_dim)),
            "reward": np.zeros(capacity),
            "cost": np.zeros(capacity),
            "next_obs": np.zeros((capacity, obs_dim)),
            "done": np.zeros(capacity, dtype=bool),
        }
        self._next = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, obs: Any, act: Any, reward: float, cost: float, next_obs: Any, done: bool) -> None:
        values = {"obs": obs, "act": act, "reward": reward, "cost": cost, "next_obs": next_obs, "done": done}
        for name, value in values.items():
            v = np.asarray(value, dtype=self._arrays[name].dtype)
            if v.shape != self._arrays[name].shape[1:]:
                raise ValueError(f"{name} has shape {v.shape}, expected {self._arrays[name].shape[1:]}")
            if v.dtype.kind == "f" and not np.all(np.isfinite(v)):
                raise ValueError(f"{name} holds a non-finite value: {value!r}")
            self._arrays[name][self._next] = v
        self._next = (self._next + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def data(self) -> dict[str, np.ndarray]:
        """Copies of the stored transitions, oldest first: each (size, ...)."""
        order = (
            np.arange(self._size)
            if self._size < self.capacity
            else (self._next + np.arange(self.capacity)) % self.capacity
        )
        return {name: a[order].copy() for name, a in self._arrays.items()}

    def state_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "next": self._next,
            "size": self._size,
            **{k: v.copy() for k, v in self._arrays.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if int(state["capacity"]) != self.capacity:
            raise ValueError(f"replay buffer: capacity {state['capacity']} in the checkpoint, {self.capacity} here")
        for name in FIELDS:
            self._arrays[name][...] = np.asarray(state[name])
        self._next, self._size = int(state["next"]), int(state["size"])
