"""Built-in daily profiles: EV arrival rates and the wholesale electricity price.

Both are 24 hourly values, hour 0 covering 00:00-01:00. They are defaults, replaceable by
config (``arrival_rate_per_h``, ``elec_price_per_kwh``); see ``docs/market.md`` for how
their levels were set from the Paper_data charging-order set.
"""

from __future__ import annotations

import numpy as np

from evprice.core.timing import HOURS_PER_DAY, SECONDS_PER_DAY, SECONDS_PER_HOUR

__all__ = [
    "DAILY_ARRIVALS_PER_STATION",
    "HOURS_PER_DAY",
    "SECONDS_PER_DAY",
    "SECONDS_PER_HOUR",
    "default_arrival_rates_per_h",
    "sinusoid_price_profile_per_kwh",
]

# Shape of the arrivals at one station over a day, with a morning peak (08-09 h) and a
# higher evening peak (18 h). Relative weights, scaled below so that one station sees
# DAILY_ARRIVALS_PER_STATION EVs a day by default.
_ARRIVAL_SHAPE = np.array(
    [
        0.40,
        0.25,
        0.20,
        0.20,
        0.25,
        0.50,
        1.20,
        2.60,
        3.60,
        3.20,
        2.40,
        2.20,
        2.40,
        2.20,
        2.10,
        2.30,
        2.90,
        3.80,
        4.20,
        3.60,
        2.60,
        1.80,
        1.20,
        0.70,
    ]
)

DAILY_ARRIVALS_PER_STATION = 45.0
"""EVs per station per day: 5,318 orders over 118.7 days (44.8 a day) in Paper_data's
``EV_data1.xlsx`` (``scripts/calibrate_defaults.py``), rounded. The *shape* above is not
taken from that station, whose busiest hour is midnight (a night tariff); it is the
commuter pattern of public chargers, with morning and evening peaks."""


def default_arrival_rates_per_h(n_stations: int, per_station_per_day: float = DAILY_ARRIVALS_PER_STATION) -> np.ndarray:
    """Market-wide arrival rate, EV/h, shape ``(24,)``: the profile with ``per_station_per_day``
    EVs a day at each station, times ``n_stations``."""
    per_station = _ARRIVAL_SHAPE * (per_station_per_day / _ARRIVAL_SHAPE.sum())
    return per_station * n_stations


def sinusoid_price_profile_per_kwh(mean: float, amplitude: float, peak_hour: float) -> np.ndarray:
    """Hourly wholesale price, currency/kWh, shape ``(24,)``: a daily cosine peaking at ``peak_hour``.

    Hour ``h`` takes the value of the cosine at the middle of the hour, ``h + 0.5``.
    """
    h = np.arange(HOURS_PER_DAY) + 0.5
    return mean + amplitude * np.cos(2.0 * np.pi * (h - peak_hour) / HOURS_PER_DAY)
