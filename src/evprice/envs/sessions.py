"""Where a scenario's charging sessions come from (``MarketConfig.sessions``).

* ``"independent"``: the market's own draws, energy and dwell independent, with the
  config's means and coefficients of variation (calibrated on Paper_data, see
  ``docs/market.md``);
* ``"calibrated"``: :data:`evprice.data.CALIBRATED`, the joint model fitted to Paper_data
  (energy and charging power with a Gaussian copula, dwell = energy / power);
* the path of an ``EV_data1``-format workbook: its sessions, resampled with replacement
  (:class:`evprice.data.BootstrapSampler`).

With a sampler, the config's energy and dwell means and coefficients of variation are
replaced by those of the sessions it draws (the drivers' expected wait and the reward
scale use them), so the config a scenario reports is the one it simulates.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from evprice.core.config import ConfigError
from evprice.data import CALIBRATED, BootstrapSampler, dwell_moments, load_charging_orders, sessions_from_orders
from evprice.market.config import MarketConfig


def _cv(x: np.ndarray) -> float:
    return float(np.std(x) / np.mean(x))


def resolve_sessions(config: MarketConfig) -> tuple[MarketConfig, Any]:
    """``(config, sampler)``: the config with its session moments set from the sampler, and the
    sampler (None for ``"independent"``)."""
    if config.sessions == "independent":
        return config, None
    if config.sessions == "calibrated":
        sampler = CALIBRATED
        energy_mean, energy_cv = CALIBRATED.energy_mean_kwh, CALIBRATED.energy_cv
        dwell_mean, dwell_cv = dwell_moments(CALIBRATED)
    else:
        try:
            orders = load_charging_orders(config.sessions)
        except ImportError as err:  # a base install: the workbook reader is an extra
            raise ConfigError(f"sessions={config.sessions!r} needs the data extra: {err}") from None
        sessions = sessions_from_orders(orders)
        if len(sessions.energy_kwh) == 0:
            raise ConfigError(
                f"sessions={config.sessions!r} holds no usable session ({len(orders.energy_kwh)} orders; kept are "
                "orders that delivered energy, took charging time and were settled normally)"
            )
        sampler = BootstrapSampler(sessions)
        energy_mean, energy_cv = float(np.mean(sessions.energy_kwh)), _cv(sessions.energy_kwh)
        dwell_mean, dwell_cv = float(np.mean(sessions.dwell_h)), _cv(sessions.dwell_h)
    moments = {
        "energy_demand_mean_kwh": energy_mean,
        "energy_demand_cv": energy_cv,
        "dwell_time_mean_h": dwell_mean,
        "dwell_time_cv": dwell_cv,
    }
    return replace(config, **moments), sampler
