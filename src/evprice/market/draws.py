"""Random inputs of the market, each from its own named stream.

* ``exogenous``: the hourly wholesale price of an episode, drawn at reset.
* ``arrivals``: Poisson counts per sub-step.
* ``choice``: each arriving driver's utility noise.
* ``sessions``: each arriving EV's dwell time and energy demand.
* ``origins``: each request's origin zone (drawn only with more than one zone).

Dwell time and energy demand are gamma or lognormal with the configured mean and
coefficient of variation ``cv`` (gamma: shape ``1 / cv^2``, so ``cv = 1`` is exponential;
lognormal: ``sigma^2 = ln(1 + cv^2)``, ``mu = ln(mean) - sigma^2 / 2``); ``cv = 0`` is a
fixed value. They are drawn for every arriving EV, admitted or not, so that the number
of draws never depends on the prices (common random numbers across policies).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from evprice.market import kernel
from evprice.market.limits import ELEC_PRICE_NOISE_CLIP_STD
from evprice.market.params import MarketParams
from evprice.market.profiles import HOURS_PER_DAY, SECONDS_PER_HOUR
from evprice.market.state import PeriodDraws

STREAMS = ("arrivals", "choice", "sessions", "exogenous", "origins")


def positive_draws(
    rng: np.random.Generator, distribution: str, mean: float, cv: float, size: tuple[int, ...]
) -> np.ndarray:
    """Positive variates of ``distribution`` ('gamma' or 'lognormal') with ``mean`` and
    coefficient of variation ``cv`` (``cv = 0``: the constant ``mean``)."""
    if cv == 0.0:
        return np.full(size, mean)
    if distribution == "gamma":
        shape = 1.0 / (cv * cv)
        return rng.gamma(shape, mean / shape, size=size)
    if distribution == "lognormal":
        sigma2 = np.log1p(cv * cv)
        return rng.lognormal(np.log(mean) - 0.5 * sigma2, np.sqrt(sigma2), size=size)
    raise ValueError(f"distribution={distribution!r} is invalid: expected 'gamma' or 'lognormal'")


def sample_elec_price(params: MarketParams, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """Hourly wholesale price of one episode, currency/kWh, shape (B, H).

    The configured daily profile plus independent normal noise per hour, clipped at
    ``ELEC_PRICE_NOISE_CLIP_STD`` standard deviations.
    """
    cfg = params.config
    hours = (params.first_hour + np.arange(params.n_hours)) % HOURS_PER_DAY
    base = cfg.elec_price_profile_per_kwh()[hours]
    std = cfg.elec_price_noise_std_per_kwh
    noise = rng.standard_normal((batch_size, params.n_hours))
    return base + std * np.clip(noise, -ELEC_PRICE_NOISE_CLIP_STD, ELEC_PRICE_NOISE_CLIP_STD)


class SessionSampler(Protocol):
    """Draws ``n`` sessions with ``rng``: anything with ``energy_kwh`` and ``dwell_h`` arrays (n,)
    (e.g. :class:`evprice.data.SessionModel`, :class:`evprice.data.BootstrapSampler`)."""

    def sample(self, n: int, rng: np.random.Generator) -> Any: ...


def sample_period_draws(
    params: MarketParams,
    period: int,
    batch_size: int,
    rngs: Mapping[str, np.random.Generator],
    session_sampler: SessionSampler | None = None,
) -> PeriodDraws:
    """Draw arrivals, choice noise and session needs for pricing period ``period``.

    Arrivals form a Poisson process whose rate is constant within each sub-step: a
    Poisson count per sub-step, each arrival uniform within its sub-step, sorted in time.
    Noise, dwell and energy are drawn only for real arrivals and laid out padded as
    (B, M, ...) with zeros after each batch member's last event. With a
    ``session_sampler`` each EV's energy and dwell come from it, jointly (its arrival
    time is not used: arrivals follow the market's hourly rates).

    The draws run compiled (:func:`evprice.market.kernel.sample`) on the generators of
    ``rngs``, which advance exactly as numpy's own methods would advance them; pass a
    :class:`~evprice.market.kernel.StreamAddresses` to save building one per call.
    """
    streams = kernel.StreamAddresses.of(rngs)
    p = params.packed
    offset, noise, dwell_s, energy_kwh, origin = kernel.sample(
        streams.table,
        period,
        batch_size,
        params.n_stations,
        p.scalars,
        p.flags,
        p.expected_arrivals,
        p.origin_cdf,
        session_sampler is None,
    )
    if session_sampler is not None:
        real = np.isfinite(offset)
        total = int(real.sum())
        if total:  # (a draw of size 0 consumes nothing, so skipping it changes no stream)
            drawn = session_sampler.sample(total, streams["sessions"])
            dwell_s[real] = np.asarray(drawn.dwell_h) * SECONDS_PER_HOUR
            energy_kwh[real] = drawn.energy_kwh
    return PeriodDraws(
        arrival_offset_s=offset, choice_noise=noise, dwell_s=dwell_s, energy_kwh=energy_kwh, origin=origin
    )
