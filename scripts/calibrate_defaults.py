"""Measure the statistics behind evprice's default market parameters.

    pip install pandas openpyxl
    python scripts/calibrate_defaults.py [--data ../shared/data/paper_data]

Reads the Paper_data workbooks ``EV_data1.xlsx`` (charging orders) and
``usable_data.xlsx`` (cleaned orders with their fees), from the authors of document 2; no
licence was given, so they are read where they lie and never copied into this repository.
Prints: orders per day, the energy per order, the session duration, the implied average
charging power, and the prices paid per kWh. Orders under 0.5 kWh (aborted sessions) are left out
of the energy, duration and power figures. ``docs/market.md`` states how the defaults
follow from these numbers.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "paper_data"
    )
    args = parser.parse_args()
    try:
        import pandas as pd
    except ImportError as err:  # pragma: no cover
        raise SystemExit("this script needs pandas and openpyxl: pip install pandas openpyxl") from err

    path = args.data / "EV_data1.xlsx"
    if not path.exists():
        raise SystemExit(f"{path} not found: pass --data DIR holding EV_data1.xlsx")
    orders = pd.read_excel(path)
    start = pd.to_datetime(orders["Start charging time"])
    days = (start.max() - start.min()).total_seconds() / 86400
    energy = orders["Charged energy（ kWh）"]
    minutes = orders["charging time（min）"]
    ok = energy > 0.5
    e, h = energy[ok], minutes[ok] / 60
    power = e / h
    print(f"orders: {len(orders)} over {days:.1f} days = {len(orders) / days:.1f} per day")
    print(f"energy per order: mean {e.mean():.1f} kWh, cv {e.std() / e.mean():.2f}")
    print(f"session duration: mean {h.mean():.2f} h, cv {h.std() / h.mean():.2f}, median {h.median() * 60:.0f} min")
    print(
        f"average power: median {power.median():.1f} kW, "
        f"quartiles {power.quantile(0.25):.1f} - {power.quantile(0.75):.1f} kW"
    )
    by_hour = start.dt.hour.value_counts().sort_index() / days
    print("orders per hour of day: " + " ".join(f"{v:.1f}" for v in by_hour))

    usable = pd.read_excel(args.data / "usable_data.xlsx")
    kwh = usable["charged energy（ kWh）"]
    paid = usable["Total order amount(¥)"] / kwh
    energy_charge = usable["charging fee（¥）"] / kwh
    print(
        f"price paid: {paid.min():.2f} - {paid.max():.2f} CNY/kWh (median {paid.median():.2f}); "
        f"energy charge median {energy_charge.median():.2f} CNY/kWh"
    )


if __name__ == "__main__":
    main()
