"""What a coordination protocol's signals carry: the messages, announcements or
recommendations of a played policy against the prices that follow (issue 23).

A protocol's *signal* in period ``t`` is what it publishes for period ``t + 1``
(:func:`protocol_signal`): a station's message (``message_dim`` values), its announced
price, or the mediator's recommendation to it. :func:`signal_trace` plays a policy for
several episodes and records, per period, every station's signal and posted price.
:func:`linear_probe` asks how much of the next price a linear function of the signal
explains out of sample: least squares fitted on the first half of the episodes, R^2 on the
second half (half-split by episode, so one episode is never both fitted and judged). The
gain over the price alone says whether the signal carries more than the current price
already does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from evprice.envs import make_env

NO_VARIATION = 1e-12
"""Below this variance a signal or a price is constant: it carries nothing a probe could fit."""


def protocol_signal(info: Mapping[str, Any], protocol: str) -> np.ndarray:
    """(B, N, d) the signal the protocol published in the step whose ``info`` this is: the
    messages (d = ``message_dim``), the announced prices or the recommendations (d = 1,
    currency/kWh)."""
    if protocol == "cheap_talk":
        return np.asarray(info["talk"]["message"], dtype=np.float64)
    if protocol == "announcement":
        return np.asarray(info["announce"]["next_price"], dtype=np.float64)[..., None]
    if protocol == "mediator":
        return np.asarray(info["mediator"]["next_price"], dtype=np.float64)[..., None]
    raise ValueError(f"protocol={protocol!r} has no signal: expected 'cheap_talk', 'announcement' or 'mediator'")


def signal_trace(
    env_id: str, factory: Callable[[Any], Any], *, seed: int, overrides: Mapping[str, Any], episodes: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(signal (T, E, N, d), price (T, E, N) currency/kWh)`` of ``episodes`` episodes (one
    batch, reset with ``seed``) under the policy ``factory(env)``: what each station said and
    posted in each period."""
    env = make_env(env_id, episodes, **dict(overrides))
    protocol = env.config.protocol
    policy = factory(env)
    obs = env.reset(seed)
    signals, prices = [], []
    for _ in range(env.n_periods):
        obs, _, _, _, info = env.step(policy(obs))
        signals.append(protocol_signal(info, protocol))
        prices.append(np.asarray(info["price"], dtype=np.float64))
    return np.stack(signals), np.stack(prices)


def _r2_out_of_sample(x: np.ndarray, y: np.ndarray, fit: np.ndarray) -> float | None:
    """R^2 on the rows not in ``fit`` of the least-squares fit of ``y`` (R,) on ``x`` (R, k) plus
    an intercept over the rows in ``fit``; None when the judged ``y`` is constant."""
    judged = ~fit
    y_test = y[judged]
    total = float(((y_test - y_test.mean()) ** 2).sum())
    if total <= NO_VARIATION * max(1, y_test.size):
        return None
    design = np.column_stack([np.ones(len(x)), x])
    coef, *_ = np.linalg.lstsq(design[fit], y[fit], rcond=None)
    residual = float(((y_test - design[judged] @ coef) ** 2).sum())
    return 1.0 - residual / total


def linear_probe(signal: np.ndarray, price: np.ndarray) -> list[dict[str, float | None]]:
    """Per station, how well a linear function of its signal in period ``t`` predicts its
    price in ``t + 1``, out of sample.

    Args:
        signal: (T, E, N, d) each station's signal per period and episode.
        price: (T, E, N) each station's posted price, currency/kWh.

    Returns:
        per station ``{"r2": R^2 of the next price on the signal, "r2_price": R^2 on the
        current price alone, "r2_gain": R^2 on both minus R^2 on the price alone,
        "signal_std": the signal's standard deviation over periods and episodes (mean over
        its d values)}``. The first half of the episodes (at least one) fits, the rest judge;
        with one episode the first half of its periods fits. An R^2 is None where the judged
        next price is constant; a constant signal explains nothing (its R^2 is that of the
        intercept alone, about 0).
    """
    t, e, n, d = signal.shape
    if t < 3:
        raise ValueError(f"a probe needs at least 3 periods, got {t}")
    if e >= 2:
        fit = np.zeros((t - 1, e), dtype=bool)
        fit[:, : e // 2] = True
    else:
        fit = np.zeros((t - 1, 1), dtype=bool)
        fit[: (t - 1) // 2] = True
    fit = fit.reshape(-1)
    out = []
    for i in range(n):
        said = signal[:-1, :, i, :].reshape(-1, d)
        now = price[:-1, :, i].reshape(-1, 1)
        nxt = price[1:, :, i].reshape(-1)
        r2 = _r2_out_of_sample(said, nxt, fit)
        r2_price = _r2_out_of_sample(now, nxt, fit)
        both = _r2_out_of_sample(np.column_stack([now, said]), nxt, fit)
        out.append(
            {
                "r2": r2,
                "r2_price": r2_price,
                "r2_gain": None if both is None or r2_price is None else both - r2_price,
                "signal_std": float(signal[:, :, i, :].std(axis=(0, 1)).mean()),
            }
        )
    return out


SIGNAL_METRICS = ("signal_r2", "signal_r2_price", "signal_r2_gain", "signal_std", "signal_gap")
"""The per-station numbers :func:`signal_measures` gives (results rows' keys)."""


def signal_measures(
    env_id: str, factory: Callable[[Any], Any], *, seed: int, overrides: Mapping[str, Any], episodes: int
) -> dict[str, list[float | None]]:
    """:func:`linear_probe` of :func:`signal_trace` as per-station lists: ``signal_r2``,
    ``signal_r2_price``, ``signal_r2_gain``, ``signal_std``; and ``signal_gap``, the mean
    ``|p_{t+1} - s_t|`` (currency/kWh) between a price-valued signal (an announcement, a
    recommendation) and the price posted after it, None for messages."""
    signal, price = signal_trace(env_id, factory, seed=seed, overrides=overrides, episodes=episodes)
    probe = linear_probe(signal, price)
    out: dict[str, list[float | None]] = {
        f"signal_{key}" if key != "signal_std" else key: [p[key] for p in probe]
        for key in ("r2", "r2_price", "r2_gain", "signal_std")
    }
    protocol = dict(overrides).get("protocol", "none")
    if protocol in ("announcement", "mediator"):
        out["signal_gap"] = np.abs(price[1:] - signal[:-1, ..., 0]).mean(axis=(0, 1)).tolist()
    else:
        out["signal_gap"] = [None] * price.shape[2]
    return out
