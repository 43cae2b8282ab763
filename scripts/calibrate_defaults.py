"""Measure the statistics behind evprice's default market parameters and fit the session model.

    pip install -e ".[data]"
    python scripts/calibrate_defaults.py [--data DIR]

DIR defaults to ``$EVPRICE_PAPER_DATA``, else ``../shared/data/paper_data`` beside this
repository. Reads the Paper_data workbooks ``EV_data1.xlsx`` (charging orders) and
``usable_data.xlsx`` (cleaned orders with their fees) through ``evprice.data``; no licence
was given, so they are read where they lie and never copied into this repository.

Prints: orders per day, the energy per order, the session duration, the implied average
charging power, the sessions per hour of day, the prices paid per kWh, the energy charge
per kWh by hour (the time-of-use pattern of ``DEFAULT_TOU_SCHEDULE``), the comparison of
the dependence models, the fitted ``SessionModel`` (as the ``CALIBRATED`` block of
``src/evprice/data/sessions.py``) and its ``MarketConfig`` overrides. Orders of 0.5 kWh or
less (aborted sessions) and abnormal settlements are left out of the session figures.
``docs/market.md`` and ``docs/data.md`` state how the defaults follow from these numbers.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from evprice.data import (
    MIN_ENERGY_KWH,
    PAPER_DATA_FILES,
    ChargingOrders,
    SessionModel,
    Sessions,
    compare_dependence_models,
    fit_session_model,
    load_charging_orders,
    load_usable_sessions,
    market_overrides,
    observation_days,
    sessions_from_orders,
)

ENV_VAR = "EVPRICE_PAPER_DATA"


def default_data_dir() -> Path:
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "paper_data"


def cv(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / x.mean())


def print_sessions(orders: ChargingOrders, sessions: Sessions) -> None:
    days = observation_days(orders)
    e, h = sessions.energy_kwh, sessions.dwell_h
    power = e / h
    print(f"orders: {len(orders)} over {days:.1f} days = {len(orders) / days:.1f} per day")
    print(f"sessions (> {MIN_ENERGY_KWH} kWh, normal settlement): {len(sessions)} = {len(sessions) / days:.1f} per day")
    print(f"energy per session: mean {e.mean():.1f} kWh, cv {cv(e):.2f}")
    print(f"session duration: mean {h.mean():.2f} h, cv {cv(h):.2f}, median {np.median(h) * 60:.0f} min")
    q1, q2, q3 = np.quantile(power, [0.25, 0.5, 0.75])
    print(f"average power: median {q2:.1f} kW, quartiles {q1:.1f} - {q3:.1f} kW")
    counts = np.bincount(np.floor(sessions.arrival_h).astype(int), minlength=24)
    print("sessions per hour of day: " + " ".join(f"{c / days:.1f}" for c in counts))


def print_prices(orders: ChargingOrders, usable_path: Path) -> None:
    usable = load_usable_sessions(usable_path)
    paid = usable.total_fee_cny / usable.energy_kwh
    charge = usable.energy_fee_cny / usable.energy_kwh
    print(
        f"price paid: {paid.min():.2f} - {paid.max():.2f} CNY/kWh (median {np.median(paid):.2f}); "
        f"energy charge median {np.median(charge):.2f} CNY/kWh"
    )
    # orders over 2 kWh that start and end in one clock hour pay one hour's tariff
    hour = orders.start_time.astype("datetime64[h]")
    one_hour = (hour == orders.end_time.astype("datetime64[h]")) & (orders.energy_kwh > 2.0)
    of_day = ((hour - hour.astype("datetime64[D]")) / np.timedelta64(1, "h")).astype(int)
    rate = np.divide(orders.energy_fee_cny, orders.energy_kwh, out=np.full(len(orders), np.nan), where=one_hour)
    medians = [
        np.median(rate[one_hour & (of_day == h)]) if (one_hour & (of_day == h)).any() else np.nan for h in range(24)
    ]
    print("median energy charge by hour (CNY/kWh): " + " ".join(f"{m:.2f}" for m in medians))


def print_model(model: SessionModel, sessions: Sessions) -> None:
    print("\ndependence models, best first (log-likelihood of the observed (energy, dwell) pairs):")
    for f in compare_dependence_models(sessions):
        print(
            f"  {f.structure:12s} energy {f.energy_family:9s} other {f.other_family:9s} "
            f"rho {f.correlation:6.3f}  loglik {f.log_likelihood:10.1f}"
        )
    counts = np.bincount(np.floor(sessions.arrival_h).astype(int), minlength=24)
    print("\nfitted session model (paste into src/evprice/data/sessions.py):")
    print(f"_CALIBRATED_ARRIVAL_COUNTS = {tuple(int(c) for c in counts)}")
    for name in (
        "arrivals_per_day",
        "energy_distribution",
        "energy_mean_kwh",
        "energy_cv",
        "power_distribution",
        "power_mean_kw",
        "power_cv",
        "energy_power_correlation",
    ):
        value = getattr(model, name)
        print(f"    {name}={value!r}," if isinstance(value, str) else f"    {name}={value:.6g},")
    print("\nMarketConfig overrides (market_overrides(model, n_stations=1)):")
    for key, value in market_overrides(model, n_stations=1).items():
        text = "[" + ", ".join(f"{v:.3f}" for v in value) + "]" if isinstance(value, list) else repr(value)
        print(f"  {key}: {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="directory of the Paper_data workbooks")
    args = parser.parse_args()
    orders_path = args.data / PAPER_DATA_FILES["orders"]
    if not orders_path.exists():
        raise SystemExit(
            f"{orders_path} not found: pass --data DIR (or set {ENV_VAR}) holding the Paper_data workbooks"
        )
    try:
        orders = load_charging_orders(orders_path)
    except ImportError as err:  # pragma: no cover
        raise SystemExit(str(err)) from err
    sessions = sessions_from_orders(orders)
    print_sessions(orders, sessions)
    print_prices(orders, args.data / PAPER_DATA_FILES["usable"])
    print_model(fit_session_model(orders), sessions)


if __name__ == "__main__":
    main()
