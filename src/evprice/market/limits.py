"""The market's allowed choices and the limits of its numbers, each with its physical reason.

:class:`~evprice.market.config.MarketConfig` declares its fields with these; the reasons are
printed in the configuration reference (``evprice config``, ``docs/config.md``).
"""

from __future__ import annotations

from evprice.market.profiles import SECONDS_PER_HOUR

NOISE_KINDS = ("gumbel", "normal")
DEMAND_MODES = ("sampled", "expected")
DISTRIBUTIONS = ("gamma", "lognormal")
WHEN_FULL = ("block", "reroute", "queue")
DRIVER_COSTS = ("utility", "generalised")
SESSION_SOURCES = ("independent", "calibrated")
REWARDS = ("team", "individual", "period", "ema")
OBJECTIVES = ("profit", "social_welfare")
OBSERVABILITY = ("partial", "full")
ELEC_PRICE_NOISE_CLIP_STD = 3.0
"""Hourly wholesale-price noise is normal, clipped at this many standard deviations so the
price stays inside the observation bounds."""

MAX_ARRIVAL_RATE_PER_H = 10_000.0
"""Cap on the market-wide arrival rate: allocation loops over arrivals, so its cost grows
with the rate (about 10 times the busiest real public sites)."""
MIN_EFFICIENCY = 0.01
"""Lowest charging efficiency accepted: the grid draw is the energy delivered over it (real
chargers are 0.85-0.98; 1e-300 would overflow every grid quantity)."""
MIN_CV = 1e-3
"""Smallest non-zero coefficient of variation (gamma shape 1/cv^2 = 10^6); 0 means a fixed value."""
MAX_CV = 10.0
"""Largest coefficient of variation of a session quantity (a gamma shape of 0.01)."""
MAX_CHARGER_POWER_KW = 10_000.0
"""Largest charger power: megawatt charging reaches 3.75 MW."""
MAX_PRICE_PER_KWH = 10_000.0
"""Largest magnitude of a price per kWh, in any currency."""
PRICE_REASON = "public tariffs are below 1,000 per kWh in every currency (KRW about 500)"
MAX_HORIZON_H = 24.0 * 366
"""Longest episode: a leap year (longer runs are several episodes)."""
MAX_HORIZON_S = round(MAX_HORIZON_H * SECONDS_PER_HOUR)
MAX_ENERGY_KWH = 1000.0
"""Largest mean energy demand: the largest electric trucks hold about 1 MWh."""
MAX_UTILITY = 1000.0
"""Largest magnitude of a utility or a sensitivity: utilities are in units of the noise, and a
difference of 1,000 already makes every choice certain (exp(-1000) is 0 in float64)."""
UTILITY_REASON = "in units of the noise; a utility gap of 1,000 already makes every choice certain"
MAX_MONEY_PER_H = 1e6
"""Largest amount of money per hour (a driver's value of time, a station's fixed cost)."""
MONEY_REASON = "money per hour: a million in any currency is beyond a station's or a driver's scale"
MINUTES_PER_DAY = 24.0 * 60.0
TIME_REASON = "a driver's trip and wait, at most a day"
ARRIVALS_REASON = "allocation loops over arrivals; 10,000 EV/h is ten times the busiest public sites"
CV_REASON = "0 is a fixed value; a cv of 10 is a gamma shape of 0.01"
