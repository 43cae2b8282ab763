"""Hourly exogenous series: time-of-use tariffs, a noisy daily sinusoid, user CSV series,
and lifecycle carbon intensities of generation sources.

Every function is pure (randomness only through the ``rng`` passed in) and returns a
float64 numpy array. Hour ``h`` covers ``h:00``-``h+1:00``; hours past 24 wrap to the next
day (``hour % 24``).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from evprice.core.config import ConfigError, check_float, invalid
from evprice.core.timing import HOURS_PER_DAY

__all__ = [
    "DEFAULT_TOU_SCHEDULE",
    "EMISSION_FACTORS_G_PER_KWH",
    "TOU_PERIODS",
    "load_series_csv",
    "mix_intensity_g_per_kwh",
    "sinusoid_with_noise",
    "tou_tariff_per_kwh",
]

TOU_PERIODS = ("off_peak", "shoulder", "peak")
"""Names of the time-of-use periods (valley, flat, peak in Chinese tariffs)."""

_O, _S, _P = TOU_PERIODS
DEFAULT_TOU_SCHEDULE: tuple[str, ...] = (
    _O, _O, _O, _O, _O, _O, _O, _O,  # 00-08 valley
    _S, _S,  # 08-10 flat
    _P, _P,  # 10-12 peak
    _S, _S,  # 12-14 flat
    _P, _P, _P, _P, _P,  # 14-19 peak
    _S, _S, _S, _S, _S,  # 19-24 flat
)  # fmt: skip
"""Period of each hour of the day: off-peak 00-08, peak 10-12 and 14-19, shoulder otherwise.

Read from the data rather than a tariff document: it is the pattern of the energy charge
that the station of Paper_data's ``EV_data1.xlsx`` billed (a city in China, 2022). For
orders that start and end within one clock hour, the median energy charge is 0.26 CNY/kWh
in every hour 00-08, 0.78 CNY/kWh in 08-10, 12-14 and 19-24, and 1.14-1.17 CNY/kWh in
10-12 and 14-19 (``python scripts/calibrate_defaults.py`` prints it). Chinese provinces set
their own periods, so treat it as one real example, not a national standard.
"""


def _hour_of_day(hours: Any) -> np.ndarray:
    h = np.asarray(hours, dtype=np.float64)
    if not np.isfinite(h).all():
        raise ConfigError(f"hours={hours!r} is invalid: expected finite hours")
    return np.floor(h).astype(np.int64) % HOURS_PER_DAY


def tou_tariff_per_kwh(
    hours: Any,
    off_peak: float,
    shoulder: float,
    peak: float,
    schedule: Sequence[str] = DEFAULT_TOU_SCHEDULE,
) -> np.ndarray:
    """Time-of-use price at each of ``hours``, currency/kWh, same shape as ``hours``.

    Args:
        hours: hours since midnight of day 0 (any shape; fractional hours take their
            hour's price; ``h``, ``h + 24`` and ``h - 24`` have the same price).
        off_peak, shoulder, peak: price of each period, currency/kWh.
        schedule: the period (one of :data:`TOU_PERIODS`) of each of the 24 hours of the day.
    """
    prices = {
        name: check_float(name, value)
        for name, value in (("off_peak", off_peak), ("shoulder", shoulder), ("peak", peak))
    }
    if isinstance(schedule, str) or len(schedule) != HOURS_PER_DAY:
        raise invalid("schedule", schedule, f"{HOURS_PER_DAY} period names, each one of {TOU_PERIODS}")
    unknown = [(h, p) for h, p in enumerate(schedule) if p not in TOU_PERIODS]
    if unknown:
        raise ConfigError(
            f"schedule is invalid: hour {unknown[0][0]} has period {unknown[0][1]!r}; expected one of {TOU_PERIODS}"
        )
    by_hour = np.array([prices[p] for p in schedule])
    return by_hour[_hour_of_day(hours)]


def sinusoid_with_noise(
    hours: Any,
    mean: float = 0.65,
    amplitude: float = 0.25,
    peak_hour: float = 18.0,
    noise_std: float = 0.03,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """A daily cosine peaking at ``peak_hour`` plus independent normal noise, same shape as ``hours``.

    ``mean + amplitude * cos(2 pi (h + 0.5 - peak_hour) / 24) + noise_std * N(0, 1)``, where
    ``h`` is the whole hour of each of ``hours`` (each hour takes the value at its middle).
    The defaults are those of the market's wholesale price in CNY/kWh
    (``MarketConfig.elec_price_mean_per_kwh``, ``..._amplitude_per_kwh``, ``..._peak_hour``,
    ``..._noise_std_per_kwh``; the market also clips its noise at 3 std, this does not);
    the same form serves any daily series (carbon intensity in g/kWh, say). ``rng`` is
    required when ``noise_std > 0``; the noise is one ``rng.standard_normal(shape)`` call.
    """
    mean = check_float("mean", mean)
    amplitude = check_float("amplitude", amplitude, low=0.0)
    peak_hour = check_float("peak_hour", peak_hour, low=0.0, high=24.0, high_open=True)
    noise_std = check_float("noise_std", noise_std, low=0.0)
    h = np.floor(np.asarray(hours, dtype=np.float64))
    if not np.isfinite(h).all():
        raise ConfigError(f"hours={hours!r} is invalid: expected finite hours")
    values = mean + amplitude * np.cos(2.0 * math.pi * (h + 0.5 - peak_hour) / HOURS_PER_DAY)
    if noise_std == 0.0:
        return values
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng={rng!r} is invalid: noise_std > 0 needs a numpy.random.Generator")
    return values + noise_std * rng.standard_normal(values.shape)


def load_series_csv(path: str | Path, column: str) -> np.ndarray:
    """An hourly series from a CSV file with a header, a column ``hour`` and the column ``column``.

    The hours must be ``0, 1, ..., n - 1`` in order, with ``n`` a positive multiple of 24
    (one or more whole days); every value must be a finite number. Returns the ``(n,)``
    values. Other columns are ignored.
    """
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
            header = list(rows[0].keys()) if rows else []
    except OSError as err:
        raise ConfigError(f"series file {str(p)!r} cannot be read: {err.strerror}") from err
    if not rows:
        raise ConfigError(f"series file {str(p)!r} has no data rows")
    missing = [c for c in ("hour", column) if c not in header]
    if missing:
        raise ConfigError(f"series file {str(p)!r}: missing columns {missing}; columns found: {header}")
    hours, values = [], []
    for i, row in enumerate(rows):
        line = i + 2  # the header is line 1
        try:
            hours.append(float(row["hour"]))
            values.append(float(row[column]))
        except (TypeError, ValueError) as err:
            raise ConfigError(
                f"series file {str(p)!r} line {line}: hour={row['hour']!r}, {column}={row[column]!r} is not a number"
            ) from err
        if not math.isfinite(values[-1]):
            raise ConfigError(f"series file {str(p)!r} line {line}: {column}={row[column]!r} is not finite")
        if hours[-1] != i:
            raise ConfigError(
                f"series file {str(p)!r} line {line}: hour={row['hour']!r}, expected {i} (hours 0, 1, 2, ... in order)"
            )
    if len(values) % HOURS_PER_DAY:
        raise ConfigError(
            f"series file {str(p)!r} has {len(values)} hourly values: expected 24 or a multiple of 24 (whole days)"
        )
    return np.array(values, dtype=np.float64)


EMISSION_FACTORS_G_PER_KWH: Mapping[str, float] = MappingProxyType(
    {
        "coal": 820.0,  # pulverised coal
        "gas_ccgt": 490.0,  # gas, combined cycle
        "oil": 840.0,  # IPCC SRREN (2011), Annex II, Table A.II.4: AR5 gives no oil figure
        "biomass_cofiring": 740.0,
        "biomass_dedicated": 230.0,
        "geothermal": 38.0,
        "hydro": 24.0,
        "nuclear": 12.0,
        "solar_csp": 27.0,  # concentrated solar power
        "solar_pv_rooftop": 41.0,
        "solar_pv_utility": 48.0,
        "wind_onshore": 11.0,
        "wind_offshore": 12.0,
    }
)
"""Lifecycle emissions of electricity generation, g CO2-eq per kWh generated (medians).

Source: IPCC AR5 WGIII (2014), Annex III "Technology-specific cost and performance
parameters" (Schlömer et al.), Table A.III.2, lifecycle medians of commercially available
technologies; ``oil``, which that table lacks, from IPCC SRREN (2011), Annex II
"Methodology" (Moomaw et al.), Table A.II.4 (median of the reviewed estimates).
"""


def mix_intensity_g_per_kwh(
    shares: Mapping[str, Any], factors: Mapping[str, float] = EMISSION_FACTORS_G_PER_KWH
) -> np.ndarray:
    """Carbon intensity of a generation mix, g CO2-eq/kWh: ``sum_s share_s * factor_s``.

    ``shares`` maps sources (keys of ``factors``) to their share of the generation: numbers,
    or arrays of one shape (an hourly mix gives hourly intensities). Shares must be in
    [0, 1] and sum to 1 (within 1e-6) wherever they are given.
    """
    if not shares:
        raise ConfigError("shares is empty: expected a mapping of generation sources to their shares")
    unknown = [s for s in shares if s not in factors]
    if unknown:
        raise ConfigError(f"unknown generation sources {unknown}; known: {sorted(factors)}")
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in shares.values()))
    for name, a in zip(shares, arrays):
        if not np.isfinite(a).all() or (a < 0).any() or (a > 1).any():
            raise ConfigError(f"shares[{name!r}]={shares[name]!r} is invalid: expected shares in [0, 1]")
    total = np.sum(arrays, axis=0)
    if (np.abs(total - 1.0) > 1e-6).any():
        raise ConfigError(f"shares are invalid: they must sum to 1, got {np.round(total, 6).tolist()}")
    return np.asarray(sum(factors[name] * a for name, a in zip(shares, arrays)), dtype=np.float64)
