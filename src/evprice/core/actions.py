"""Action scaling: a normalised action in ``[-1, 1]`` becomes a value in ``[low, high]``.

``value = low + (a + 1) / 2 * (high - low)``, so ``a = -1`` gives ``low``, ``a = 0`` the
midpoint and ``a = 1`` ``high`` (computed as ``((1 - a) low + (1 + a) high) / 2``, which
hits both ends and the midpoint exactly in floating point).

Finite actions outside ``[-1, 1]`` are **clipped** to it before scaling (policies with
unbounded Gaussian heads emit them routinely; clipping is what every continuous-control
library does). NaN or infinite actions and arrays of the wrong shape are errors: they
signal a bug upstream and must never move the simulation silently.
"""

from __future__ import annotations

import math

import numpy as np


class ActionError(ValueError):
    """An action batch has the wrong shape or holds NaN / infinite values."""


def check_actions(actions: object, shape: tuple[int, ...], *, what: str = "actions") -> np.ndarray:
    """Return ``actions`` as a float64 array of exactly ``shape`` with finite entries."""
    try:
        raw = np.asarray(actions)
    except (TypeError, ValueError) as err:  # ragged nesting
        raise ActionError(f"{what}: cannot be read as an array ({err})") from err
    if raw.dtype.kind not in "iuf":
        raise ActionError(f"{what}: expected numbers, got {raw.dtype} values such as {raw.ravel()[:1].tolist()}")
    a = raw.astype(np.float64)
    if a.shape != shape:
        raise ActionError(f"{what}: shape {a.shape}, expected {shape}")
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ActionError(f"{what}: non-finite value {a[tuple(bad)]!r} at index {tuple(int(i) for i in bad)}")
    return a


def check_single_action(action: object, *, what: str = "action") -> float:
    """One agent's action of shape ``(1,)`` (or a scalar) as a finite float.

    The common case, a float numpy array of shape (1,) with a finite entry, is read
    directly; anything else goes through :func:`check_actions`, which raises ``ActionError``
    with its message."""
    if type(action) is np.ndarray and action.shape == (1,) and action.dtype.kind == "f":
        value = float(action[0])
        if math.isfinite(value):
            return value
    raw = np.asarray(action)
    return float(check_actions(raw.reshape(-1) if raw.ndim == 0 else raw, (1,), what=what)[0])


def scale_action(action: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Map finite ``action`` (any shape broadcastable with ``low``/``high``) to ``[low, high]``.

    Out-of-range actions are clipped to ``[-1, 1]`` first. Callers validate with
    :func:`check_actions`.
    """
    a = np.minimum(np.maximum(action, -1.0), 1.0)  # np.clip's values, at a third of its cost on small arrays
    return 0.5 * ((1.0 - a) * low + (1.0 + a) * high)


def scale_single_action(action: float, low: float, high: float) -> float:
    """:func:`scale_action` of one finite action as Python floats: the same operations in the
    same order, so the same price to the last bit, without numpy's per-call cost (the
    one-environment views)."""
    a = min(max(action, -1.0), 1.0)
    return 0.5 * ((1.0 - a) * low + (1.0 + a) * high)


def unscale_action(value: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Inverse of :func:`scale_action` for ``value`` in ``[low, high]`` (no clipping)."""
    return 2.0 * (np.asarray(value, dtype=np.float64) - low) / (high - low) - 1.0
