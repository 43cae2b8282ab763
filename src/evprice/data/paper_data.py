"""Loaders for the three workbooks of Paper_data (Yang et al., IEEE Trans. Power Syst. 2024).

The data set has **no licence**: it is read where it lies and never copied into this
repository (see ``docs/data.md``). Each loader reads one sheet, maps every column it uses
from its source name (partly Chinese; several with full-width brackets ``（ ）``) to an
English snake_case name carrying its unit, checks the values, and returns a frozen
record of numpy arrays:

==================  ===================  =====================================================
file                loader               record
==================  ===================  =====================================================
usable_data.xlsx    load_usable_sessions ``UsableSessions``: cleaned orders with SOC, no times
EV_data1.xlsx       load_charging_orders ``ChargingOrders``: one station's orders, timestamped
CSs_load.xlsx       load_station_load    ``StationLoad``: (days, 96) fifteen-minute power
==================  ===================  =====================================================

Column names are matched after Unicode NFKC normalisation, case folding and removal of
white space, so ``charged energy（ kWh）`` and ``Charged Energy (kWh)`` name the same
column. Columns not listed in a mapping are ignored (except in ``CSs_load.xlsx``, whose
layout is fixed). A workbook that does not match fails with :class:`PaperDataError`
naming the file, the sheet, the missing columns and the columns found.

pandas and openpyxl are imported only inside the loaders (``pip install evprice[data]``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evprice.core.config import ConfigError

__all__ = [
    "ORDER_COLUMNS",
    "PAPER_DATA_FILES",
    "STATION_LOAD_DATE_COLUMN",
    "STATION_LOAD_TIME_COLUMNS",
    "USABLE_COLUMNS",
    "ChargingOrders",
    "PaperData",
    "PaperDataError",
    "StationLoad",
    "UsableSessions",
    "load_charging_orders",
    "load_paper_data",
    "load_station_load",
    "load_usable_sessions",
]

PAPER_DATA_FILES: Mapping[str, str] = {
    "usable": "usable_data.xlsx",
    "orders": "EV_data1.xlsx",
    "station_load": "CSs_load.xlsx",
}
"""File name of each workbook inside a Paper_data directory."""

# Source column -> field of the record. The brackets are full-width （ ） where the source
# has them; "元" and "¥" both mean yuan (CNY).
USABLE_COLUMNS: Mapping[str, str] = {
    "charged energy（ kWh）": "energy_kwh",
    "Total order amount(¥)": "total_fee_cny",
    "charging fee（¥）": "energy_fee_cny",
    "service fee (¥)": "service_fee_cny",
    "Time（min）": "duration_min",
    "Start-SOC（%）": "soc_start_pct",
    "End-SOC（%）": "soc_end_pct",
    "Estimated battery capacity（kwh)": "battery_capacity_kwh",
    "laxity time（min）": "laxity_min",
}
"""``usable_data.xlsx``: source column name -> :class:`UsableSessions` field."""

ORDER_COLUMNS: Mapping[str, str] = {
    "Time to order": "order_time",
    "Start charging time": "start_time",
    "End charging time": "end_time",
    "settlement time": "settlement_time",
    "Charged energy（ kWh）": "energy_kwh",
    "settlement amount（元）": "settled_amount_cny",
    "Total order amount（元）": "total_fee_cny",
    "charging price（¥）": "energy_fee_cny",
    "service fee（¥）": "service_fee_cny",
    "charging time（min）": "duration_min",
    "Start-SOC（%）": "soc_start_pct",
    "End-SOC（%）": "soc_end_pct",
    "结算方式": "settlement_method",
    "是否异常结算": "abnormal_settlement",
}
"""``EV_data1.xlsx``: source column name -> :class:`ChargingOrders` field
(结算方式 = settlement method, 是否异常结算 = abnormal settlement?)."""

_ORDER_TIMES = ("order_time", "start_time", "end_time", "settlement_time")
_ORDER_TEXT = ("settlement_method", "abnormal_settlement")
_ORDER_OPTIONAL = ("soc_start_pct", "soc_end_pct")  # not recorded for every order (NaN)
_YES_NO = {"是": True, "否": False}  # yes / no

STATION_LOAD_DATE_COLUMN = "日期"
"""``CSs_load.xlsx``: the first column, the date (日期) of each row."""

STATION_LOAD_TIME_COLUMNS: tuple[str, ...] = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 24 * 60, 15))
"""``CSs_load.xlsx``: the 96 columns ``00:00`` ... ``23:45``, each the start of a 15-minute interval."""


class PaperDataError(ConfigError):
    """A workbook does not match its documented format. The message names the file, sheet,
    column and rows, and says how (a :class:`~evprice.core.config.ConfigError`, so the CLI
    prints it as one line)."""


@dataclass(frozen=True, eq=False)
class UsableSessions:
    """``usable_data.xlsx``: cleaned charging orders, one per row, without timestamps.

    Every array has shape ``(n,)``. ``battery_capacity_kwh`` is the data set's estimate,
    ``energy_kwh / (soc_end_pct - soc_start_pct) * 100``. ``laxity_min`` is the plug-in
    time left over after delivering ``energy_kwh`` at the charger's rated power (the values
    imply 42 kW for the first 2,369 rows and 67.5 kW for the rest).
    """

    energy_kwh: np.ndarray  # (n,) energy delivered
    total_fee_cny: np.ndarray  # (n,) amount paid: energy_fee_cny + service_fee_cny
    energy_fee_cny: np.ndarray  # (n,) energy charge
    service_fee_cny: np.ndarray  # (n,) service charge
    duration_min: np.ndarray  # (n,) charging time
    soc_start_pct: np.ndarray  # (n,) state of charge at plug-in
    soc_end_pct: np.ndarray  # (n,) state of charge at unplug
    battery_capacity_kwh: np.ndarray  # (n,) estimated battery capacity
    laxity_min: np.ndarray  # (n,) plug-in time not needed at rated power
    source: str = ""  # file it was read from

    def __len__(self) -> int:
        return int(self.energy_kwh.shape[0])


@dataclass(frozen=True, eq=False)
class ChargingOrders:
    """``EV_data1.xlsx``: the charging orders of one station, one per row.

    Times are local (naive) ``datetime64[s]``; every array has shape ``(n,)``. The SOC
    columns are NaN where the order has none. ``abnormal_settlement`` is the data set's
    flag (是否异常结算: 是 = yes); ``settlement_method`` its text (结算方式, 实时 = real time).
    """

    order_time: np.ndarray  # (n,) datetime64[s], order placed
    start_time: np.ndarray  # (n,) datetime64[s], charging started
    end_time: np.ndarray  # (n,) datetime64[s], charging ended
    settlement_time: np.ndarray  # (n,) datetime64[s], order settled
    energy_kwh: np.ndarray  # (n,) energy delivered
    settled_amount_cny: np.ndarray  # (n,) amount settled (<= total_fee_cny: discounts)
    total_fee_cny: np.ndarray  # (n,) energy_fee_cny + service_fee_cny
    energy_fee_cny: np.ndarray  # (n,) energy charge (source: "charging price (¥)", an amount)
    service_fee_cny: np.ndarray  # (n,) service charge
    duration_min: np.ndarray  # (n,) charging time, whole minutes
    soc_start_pct: np.ndarray  # (n,) state of charge at start, NaN = not recorded
    soc_end_pct: np.ndarray  # (n,) state of charge at end, NaN = not recorded
    settlement_method: np.ndarray  # (n,) str
    abnormal_settlement: np.ndarray  # (n,) bool
    source: str = ""  # file it was read from

    def __len__(self) -> int:
        return int(self.energy_kwh.shape[0])


@dataclass(frozen=True, eq=False)
class StationLoad:
    """``CSs_load.xlsx``: the power of an area's charging stations, one day per row.

    ``load_kw[d, j]`` is the power during the 15-minute interval starting at
    ``STATION_LOAD_TIME_COLUMNS[j]`` of day ``date[d]``. The workbook states no unit; the
    magnitudes (0 to about 9,500) are read as kW. Days are as listed (the file has gaps).
    """

    date: np.ndarray  # (n_days,) datetime64[D]
    load_kw: np.ndarray  # (n_days, 96)
    source: str = ""  # file it was read from

    @property
    def interval_min(self) -> int:
        """Length of each column's interval, minutes."""
        return 24 * 60 // len(STATION_LOAD_TIME_COLUMNS)

    def __len__(self) -> int:
        return int(self.date.shape[0])


@dataclass(frozen=True, eq=False)
class PaperData:
    """All three workbooks of a Paper_data directory."""

    usable: UsableSessions
    orders: ChargingOrders
    station_load: StationLoad


# -- reading -------------------------------------------------------------------------------


def _import_pandas() -> Any:
    try:
        import openpyxl  # noqa: F401  (pandas reads .xlsx through it)
        import pandas as pd
    except ImportError as err:
        raise ImportError(
            f"reading the Paper_data workbooks needs pandas and openpyxl ({err}): pip install evprice[data]"
        ) from err
    return pd


def _read_sheet(path: str | Path, sheet: str | int) -> Any:
    """The sheet as a DataFrame (header in the first row), or a clear error."""
    pd = _import_pandas()
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such workbook")
    try:
        book = pd.ExcelFile(p, engine="openpyxl")
    except Exception as err:  # not a zip, a zip that is no workbook, an empty file: openpyxl's many errors
        raise PaperDataError(
            f"{p}: is not an .xlsx workbook ({type(err).__name__}: {err}); expected an Excel file in the "
            "EV_data1.xlsx layout"
        ) from None
    with book:
        sheets = book.sheet_names
        if isinstance(sheet, int):
            if not 0 <= sheet < len(sheets):
                raise PaperDataError(f"{p}: has no sheet number {sheet}; sheets found: {sheets}")
        elif sheet not in sheets:
            raise PaperDataError(f"{p}: has no sheet {sheet!r}; sheets found: {sheets}")
        return book.parse(sheet, dtype=object)  # cells as typed: a TRUE stays a bool, not 1.0


def _key(name: Any) -> str:
    """Column name for matching: NFKC (full-width brackets to ASCII), case-folded, no spaces."""
    return "".join(unicodedata.normalize("NFKC", str(name)).casefold().split())


def _where(p: str | Path, sheet: str | int) -> str:
    return f"{Path(p)} (sheet {sheet!r})"


def _select(frame: Any, columns: Mapping[str, str], where: str) -> dict[str, Any]:
    """Field name -> column of ``frame`` for every source column in ``columns``, or raise."""
    found = {_key(c): c for c in frame.columns}
    missing = [name for name in columns if _key(name) not in found]
    if missing:
        raise PaperDataError(f"{where}: missing columns {missing}; columns found: {[str(c) for c in frame.columns]}")
    return {field: frame[found[_key(name)]] for name, field in columns.items()}


def _rows(mask: np.ndarray) -> str:
    rows = (np.flatnonzero(mask) + 2).tolist()  # spreadsheet rows: header is row 1
    return f"{rows[:5]}{' ...' if len(rows) > 5 else ''}"


def _numbers(column: Any, name: str, where: str, optional: bool = False) -> np.ndarray:
    pd = _import_pandas()
    logical = column.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
    if logical.any():  # TRUE would be read as 1
        raise PaperDataError(f"{where}: column {name!r} holds TRUE / FALSE instead of numbers in rows {_rows(logical)}")
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    given = column.notna().to_numpy()
    bad = given & ~np.isfinite(values)
    if bad.any():
        raise PaperDataError(f"{where}: column {name!r} holds non-numeric values in rows {_rows(bad)}")
    if not optional and not given.all():
        raise PaperDataError(f"{where}: column {name!r} has missing values in rows {_rows(~given)}")
    return values


def _times(column: Any, name: str, where: str) -> np.ndarray:
    pd = _import_pandas()
    values = pd.to_datetime(column, errors="coerce", format="ISO8601")
    bad = values.isna().to_numpy()
    if bad.any():
        raise PaperDataError(f"{where}: column {name!r} holds missing or unreadable times in rows {_rows(bad)}")
    return values.to_numpy(dtype="datetime64[s]")


def _text(column: Any, name: str, where: str) -> np.ndarray:
    given = column.notna().to_numpy()
    if not given.all():
        raise PaperDataError(f"{where}: column {name!r} has missing values in rows {_rows(~given)}")
    return np.array([str(v).strip() for v in column], dtype=str)


def _source_name(columns: Mapping[str, str], field: str) -> str:
    return next(name for name, f in columns.items() if f == field)


def load_usable_sessions(path: str | Path, sheet: str | int = 0) -> UsableSessions:
    """Read ``usable_data.xlsx`` (columns: :data:`USABLE_COLUMNS`) from ``sheet`` (default: the first)."""
    where = _where(path, sheet)
    cols = _select(_read_sheet(path, sheet), USABLE_COLUMNS, where)
    values = {f: _numbers(c, _source_name(USABLE_COLUMNS, f), where) for f, c in cols.items()}
    return UsableSessions(**values, source=str(path))


def load_charging_orders(path: str | Path, sheet: str | int = 0) -> ChargingOrders:
    """Read ``EV_data1.xlsx`` (columns: :data:`ORDER_COLUMNS`) from ``sheet`` (default: the first)."""
    where = _where(path, sheet)
    cols = _select(_read_sheet(path, sheet), ORDER_COLUMNS, where)
    name = lambda f: _source_name(ORDER_COLUMNS, f)  # noqa: E731
    values: dict[str, np.ndarray] = {}
    for field, column in cols.items():
        if field in _ORDER_TIMES:
            values[field] = _times(column, name(field), where)
        elif field in _ORDER_TEXT:
            values[field] = _text(column, name(field), where)
        else:
            values[field] = _numbers(column, name(field), where, optional=field in _ORDER_OPTIONAL)
    flag = values["abnormal_settlement"]
    unknown = ~np.isin(flag, list(_YES_NO))
    if unknown.any():
        raise PaperDataError(
            f"{where}: column {name('abnormal_settlement')!r} must hold 是 (yes) or 否 (no); "
            f"other values in rows {_rows(unknown)}"
        )
    values["abnormal_settlement"] = np.array([_YES_NO[v] for v in flag], dtype=bool)
    _check_orders(values, name, where)
    return ChargingOrders(**values, source=str(path))


MAX_ORDER_ENERGY_KWH = 10_000.0
"""Most energy one order may hold: ten times a heavy truck's battery (a larger value is a data error)."""


def _check_orders(values: Mapping[str, np.ndarray], name: Any, where: str) -> None:
    """Signs, ranges and time order of the orders, naming the column and rows of the first problem."""
    for field, low, high in (("energy_kwh", 0.0, MAX_ORDER_ENERGY_KWH), ("duration_min", 0.0, None)):
        v = values[field]
        bad = v < low if high is None else (v < low) | (v > high)
        if bad.any():
            allowed = f">= {low:g}" if high is None else f"in [{low:g}, {high:g}]"
            raise PaperDataError(f"{where}: column {name(field)!r} must be {allowed}; rows {_rows(bad)} are not")
    backwards = values["end_time"] < values["start_time"]
    if backwards.any():
        raise PaperDataError(
            f"{where}: column {name('end_time')!r} is before {name('start_time')!r} in rows {_rows(backwards)}"
        )


def _time_label(name: Any) -> str:
    """``00:15``, ``00:15:00`` or a ``datetime.time`` as ``HH:MM``; anything else as its text."""
    if hasattr(name, "hour") and hasattr(name, "minute"):
        return f"{name.hour:02d}:{name.minute:02d}"
    text = str(name).strip()
    parts = text.split(":")
    if len(parts) in (2, 3) and all(p.isdigit() for p in parts) and (len(parts) == 2 or int(parts[2]) == 0):
        return f"{int(parts[0]):02d}:{int(parts[1]):02d}"
    return text


def load_station_load(path: str | Path, sheet: str | int = 0) -> StationLoad:
    """Read ``CSs_load.xlsx``: a date column 日期 and exactly the 96 columns ``00:00`` ... ``23:45``."""
    where = _where(path, sheet)
    frame = _read_sheet(path, sheet)
    date = _select(frame, {STATION_LOAD_DATE_COLUMN: "date"}, where)["date"]
    others = [c for c in frame.columns if _key(c) != _key(STATION_LOAD_DATE_COLUMN)]
    labels = [_time_label(c) for c in others]
    missing = [t for t in STATION_LOAD_TIME_COLUMNS if t not in labels]
    extra = [str(c) for c, t in zip(others, labels) if t not in STATION_LOAD_TIME_COLUMNS]
    if missing or extra or len(labels) != len(set(labels)):
        raise PaperDataError(
            f"{where}: expected {STATION_LOAD_DATE_COLUMN!r} and the 96 columns 00:00 ... 23:45; "
            f"missing columns {missing}, unexpected columns {extra}, {len(others)} time columns found: "
            f"{[str(c) for c in frame.columns]}"
        )
    order = [others[labels.index(t)] for t in STATION_LOAD_TIME_COLUMNS]
    load = np.stack([_numbers(frame[c], str(c), where) for c in order], axis=1) if len(frame) else np.zeros((0, 96))
    days = _times(date, STATION_LOAD_DATE_COLUMN, where).astype("datetime64[D]")
    return StationLoad(date=days, load_kw=load.reshape(len(frame), len(STATION_LOAD_TIME_COLUMNS)), source=str(path))


def load_paper_data(directory: str | Path) -> PaperData:
    """Load the three workbooks named in :data:`PAPER_DATA_FILES` from ``directory``."""
    d = Path(directory)
    absent = [name for name in PAPER_DATA_FILES.values() if not (d / name).is_file()]
    if absent:
        raise FileNotFoundError(
            f"{d}: Paper_data workbooks not found: {absent} (expected {list(PAPER_DATA_FILES.values())})"
        )
    return PaperData(
        usable=load_usable_sessions(d / PAPER_DATA_FILES["usable"]),
        orders=load_charging_orders(d / PAPER_DATA_FILES["orders"]),
        station_load=load_station_load(d / PAPER_DATA_FILES["station_load"]),
    )
