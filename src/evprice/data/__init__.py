"""Session data and exogenous series.

* :mod:`~evprice.data.paper_data`: loaders for the three Paper_data workbooks (charging
  orders, cleaned sessions, station load), returning frozen records of numpy arrays. The
  data set has no licence: it is read where it lies, never shipped (``docs/data.md``).
* :mod:`~evprice.data.sessions`: a synthetic session generator (arrival hour, energy,
  dwell = energy / power with a Gaussian copula) fitted to the data (:data:`CALIBRATED`),
  a bootstrap of the observed sessions, and the ``MarketConfig`` overrides matching a model.
* :mod:`~evprice.data.series`: time-of-use tariffs, a noisy daily sinusoid, hourly series
  from CSV files, and lifecycle emission factors of generation sources.

Needs only numpy and scipy; the workbook loaders import pandas and openpyxl when called
(``pip install evprice[data]``).
"""

from evprice.data.paper_data import (
    ORDER_COLUMNS,
    PAPER_DATA_FILES,
    STATION_LOAD_DATE_COLUMN,
    STATION_LOAD_TIME_COLUMNS,
    USABLE_COLUMNS,
    ChargingOrders,
    PaperData,
    PaperDataError,
    StationLoad,
    UsableSessions,
    load_charging_orders,
    load_paper_data,
    load_station_load,
    load_usable_sessions,
)
from evprice.data.series import (
    DEFAULT_TOU_SCHEDULE,
    EMISSION_FACTORS_G_PER_KWH,
    TOU_PERIODS,
    load_series_csv,
    mix_intensity_g_per_kwh,
    sinusoid_with_noise,
    tou_tariff_per_kwh,
)
from evprice.data.sessions import (
    CALIBRATED,
    FAMILIES,
    MIN_ENERGY_KWH,
    BootstrapSampler,
    DependenceFit,
    SessionModel,
    Sessions,
    compare_dependence_models,
    dwell_moments,
    fit_marginal,
    fit_session_model,
    hourly_shares,
    market_overrides,
    observation_days,
    sessions_from_orders,
)

__all__ = [
    "CALIBRATED",
    "DEFAULT_TOU_SCHEDULE",
    "EMISSION_FACTORS_G_PER_KWH",
    "FAMILIES",
    "MIN_ENERGY_KWH",
    "ORDER_COLUMNS",
    "PAPER_DATA_FILES",
    "STATION_LOAD_DATE_COLUMN",
    "STATION_LOAD_TIME_COLUMNS",
    "TOU_PERIODS",
    "USABLE_COLUMNS",
    "BootstrapSampler",
    "ChargingOrders",
    "DependenceFit",
    "PaperData",
    "PaperDataError",
    "SessionModel",
    "Sessions",
    "StationLoad",
    "UsableSessions",
    "compare_dependence_models",
    "dwell_moments",
    "fit_marginal",
    "fit_session_model",
    "hourly_shares",
    "load_charging_orders",
    "load_paper_data",
    "load_series_csv",
    "load_station_load",
    "load_usable_sessions",
    "market_overrides",
    "mix_intensity_g_per_kwh",
    "observation_days",
    "sessions_from_orders",
    "sinusoid_with_noise",
    "tou_tariff_per_kwh",
]
