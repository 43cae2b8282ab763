"""Workbook loaders: round trips through small synthetic workbooks in the documented
layout, the error messages, and (when present) the real files' shapes and identities."""

from __future__ import annotations

import datetime as dt
import sys

import numpy as np
import pytest

from evprice.data import (
    ORDER_COLUMNS,
    STATION_LOAD_DATE_COLUMN,
    STATION_LOAD_TIME_COLUMNS,
    USABLE_COLUMNS,
    PaperDataError,
    load_charging_orders,
    load_paper_data,
    load_station_load,
    load_usable_sessions,
)

pd = pytest.importorskip("pandas")
pytest.importorskip("openpyxl")


def write_xlsx(path, columns, sheet="Sheet1"):
    pd.DataFrame(columns).to_excel(path, sheet_name=sheet, index=False)
    return path


USABLE = {
    "energy_kwh": [11.5, 20.0, 40.25],
    "total_fee_cny": [12.0, 21.5, 50.0],
    "energy_fee_cny": [9.0, 15.0, 40.0],
    "service_fee_cny": [3.0, 6.5, 10.0],
    "duration_min": [23, 40, 95],
    "soc_start_pct": [50, 10, 20],
    "soc_end_pct": [70, 50, 90],
    "battery_capacity_kwh": [57.5, 50.0, 57.5],
    "laxity_min": [6.6, 11.4, 37.5],
}

ORDERS = {
    "order_time": ["2022-01-01 08:00:00", "2022-01-01 23:59:00", "2022-01-03 12:30:10"],
    "start_time": ["2022-01-01 08:00:05", "2022-01-02 00:00:10", "2022-01-03 12:30:20"],
    "end_time": ["2022-01-01 08:30:05", "2022-01-02 01:10:10", "2022-01-03 12:31:20"],
    "settlement_time": ["2022-01-01 08:30:09", "2022-01-02 01:10:12", "2022-01-03 12:31:22"],
    "energy_kwh": [15.0, 30.5, 0.01],
    "settled_amount_cny": [15.0, 25.0, 0.01],
    "total_fee_cny": [15.0, 30.0, 0.01],
    "energy_fee_cny": [11.0, 8.0, 0.01],
    "service_fee_cny": [4.0, 22.0, 0.0],
    "duration_min": [30, 70, 1],
    "soc_start_pct": [20.0, None, 50.0],
    "soc_end_pct": [60.0, None, 50.0],
    "settlement_method": ["实时", "实时", "实时"],
    "abnormal_settlement": ["否", "是", "否"],
}


def source_columns(mapping, values):
    """The synthetic values under the workbook's source column names."""
    return {name: values[field] for name, field in mapping.items()}


def station_load_columns(n_days=2, labels=STATION_LOAD_TIME_COLUMNS):
    cols = {STATION_LOAD_DATE_COLUMN: [dt.datetime(2020, 1, 1 + d) for d in range(n_days)]}
    for j, label in enumerate(labels):
        cols[label] = [100.0 * d + j + 0.5 for d in range(n_days)]
    return cols


# -- round trips ---------------------------------------------------------------------------


def test_usable_sessions_round_trip(tmp_path):
    path = write_xlsx(tmp_path / "usable_data.xlsx", source_columns(USABLE_COLUMNS, USABLE))
    usable = load_usable_sessions(path)
    assert len(usable) == 3 and usable.source == str(path)
    for field, values in USABLE.items():
        np.testing.assert_array_equal(getattr(usable, field), np.asarray(values, dtype=float), err_msg=field)


def test_charging_orders_round_trip(tmp_path):
    path = write_xlsx(tmp_path / "EV_data1.xlsx", source_columns(ORDER_COLUMNS, ORDERS))
    orders = load_charging_orders(path)
    assert len(orders) == 3
    for field in ("order_time", "start_time", "end_time", "settlement_time"):
        got = getattr(orders, field)
        assert got.dtype == np.dtype("datetime64[s]")
        np.testing.assert_array_equal(got, np.array([s.replace(" ", "T") for s in ORDERS[field]], "datetime64[s]"))
    for field in ("energy_kwh", "settled_amount_cny", "total_fee_cny", "energy_fee_cny", "service_fee_cny"):
        np.testing.assert_array_equal(getattr(orders, field), ORDERS[field], err_msg=field)
    np.testing.assert_array_equal(orders.duration_min, [30, 70, 1])
    np.testing.assert_array_equal(orders.soc_start_pct, [20.0, np.nan, 50.0])  # missing SOC is NaN
    np.testing.assert_array_equal(orders.settlement_method, ["实时"] * 3)
    np.testing.assert_array_equal(orders.abnormal_settlement, [False, True, False])


def test_orders_with_date_cells_instead_of_text(tmp_path):
    values = dict(ORDERS)
    for field in ("order_time", "start_time", "end_time", "settlement_time"):
        values[field] = [dt.datetime.fromisoformat(s) for s in ORDERS[field]]
    orders = load_charging_orders(write_xlsx(tmp_path / "o.xlsx", source_columns(ORDER_COLUMNS, values)))
    assert orders.start_time[1] == np.datetime64("2022-01-02T00:00:10")


def test_station_load_round_trip(tmp_path):
    cols = station_load_columns(3)
    load = load_station_load(write_xlsx(tmp_path / "CSs_load.xlsx", cols))
    assert load.load_kw.shape == (3, 96) and load.interval_min == 15 and len(load) == 3
    np.testing.assert_array_equal(load.date, np.array(["2020-01-01", "2020-01-02", "2020-01-03"], "datetime64[D]"))
    assert load.load_kw[0, 0] == 0.5 and load.load_kw[2, 95] == 295.5
    np.testing.assert_array_equal(load.load_kw[1], [cols[t][1] for t in STATION_LOAD_TIME_COLUMNS])


def test_station_load_columns_may_be_times_and_in_any_order(tmp_path):
    cols = station_load_columns(1)
    date = cols.pop(STATION_LOAD_DATE_COLUMN)
    shuffled = {dt.time(int(k[:2]), int(k[3:])): v for k, v in reversed(list(cols.items()))}
    load = load_station_load(write_xlsx(tmp_path / "l.xlsx", {STATION_LOAD_DATE_COLUMN: date, **shuffled}))
    np.testing.assert_array_equal(load.load_kw[0], np.arange(96) + 0.5)


def test_column_names_match_with_ascii_brackets_and_other_case(tmp_path):
    ascii_names = {
        name.replace("（", "(").replace("）", ")").upper(): USABLE[field] for name, field in USABLE_COLUMNS.items()
    }
    assert "CHARGED ENERGY( KWH)" in ascii_names
    usable = load_usable_sessions(write_xlsx(tmp_path / "u.xlsx", {**ascii_names, "notes": ["a", "b", "c"]}))
    np.testing.assert_array_equal(usable.energy_kwh, USABLE["energy_kwh"])


def test_load_paper_data_reads_the_three_files(tmp_path):
    write_xlsx(tmp_path / "usable_data.xlsx", source_columns(USABLE_COLUMNS, USABLE))
    write_xlsx(tmp_path / "EV_data1.xlsx", source_columns(ORDER_COLUMNS, ORDERS))
    write_xlsx(tmp_path / "CSs_load.xlsx", station_load_columns(2))
    data = load_paper_data(tmp_path)
    assert (len(data.usable), len(data.orders), data.station_load.load_kw.shape) == (3, 3, (2, 96))


# -- errors --------------------------------------------------------------------------------


def test_missing_columns_are_named_with_the_file_and_the_columns_found(tmp_path):
    cols = source_columns(USABLE_COLUMNS, USABLE)
    del cols["laxity time（min）"], cols["Time（min）"]
    path = write_xlsx(tmp_path / "usable_data.xlsx", cols)
    with pytest.raises(PaperDataError) as err:
        load_usable_sessions(path)
    text = str(err.value)
    assert str(path) in text and "laxity time（min）" in text and "Time（min）" in text
    assert "columns found" in text and "charged energy（ kWh）" in text


def test_station_load_with_95_columns_names_the_missing_one(tmp_path):
    path = write_xlsx(tmp_path / "CSs_load.xlsx", station_load_columns(2, STATION_LOAD_TIME_COLUMNS[:-1]))
    with pytest.raises(PaperDataError, match=r"missing columns \['23:45'\].*95 time columns found"):
        load_station_load(path)


def test_station_load_with_an_unexpected_column(tmp_path):
    path = write_xlsx(tmp_path / "l.xlsx", {**station_load_columns(1), "24:00": [1.0]})
    with pytest.raises(PaperDataError, match=r"unexpected columns \['24:00'\]"):
        load_station_load(path)


def test_station_load_without_a_date_column(tmp_path):
    cols = station_load_columns(1)
    del cols[STATION_LOAD_DATE_COLUMN]
    with pytest.raises(PaperDataError, match="missing columns \\['日期'\\]"):
        load_station_load(write_xlsx(tmp_path / "l.xlsx", cols))


def test_wrong_sheet_lists_the_sheets(tmp_path):
    path = write_xlsx(tmp_path / "u.xlsx", source_columns(USABLE_COLUMNS, USABLE), sheet="Data")
    with pytest.raises(PaperDataError, match=r"has no sheet 'Sheet1'; sheets found: \['Data'\]"):
        load_usable_sessions(path, sheet="Sheet1")
    with pytest.raises(PaperDataError, match="no sheet number 3"):
        load_usable_sessions(path, sheet=3)
    assert len(load_usable_sessions(path, sheet="Data")) == 3


def test_non_numeric_and_missing_values_name_column_and_row(tmp_path):
    values = dict(USABLE, energy_kwh=[11.5, "lots", 40.25])
    with pytest.raises(PaperDataError, match=r"'charged energy（ kWh）' holds non-numeric values in rows \[3\]"):
        load_usable_sessions(write_xlsx(tmp_path / "a.xlsx", source_columns(USABLE_COLUMNS, values)))
    values = dict(USABLE, duration_min=[23, 40, None])
    with pytest.raises(PaperDataError, match=r"'Time（min）' has missing values in rows \[4\]"):
        load_usable_sessions(write_xlsx(tmp_path / "b.xlsx", source_columns(USABLE_COLUMNS, values)))


def test_unreadable_times_and_flags(tmp_path):
    values = dict(ORDERS, start_time=["2022-01-01 08:00:05", "yesterday", "2022-01-03 12:30:20"])
    with pytest.raises(PaperDataError, match=r"'Start charging time' holds missing or unreadable times in rows \[3\]"):
        load_charging_orders(write_xlsx(tmp_path / "a.xlsx", source_columns(ORDER_COLUMNS, values)))
    values = dict(ORDERS, abnormal_settlement=["否", "maybe", "否"])
    with pytest.raises(PaperDataError, match=r"是否异常结算.*rows \[3\]"):
        load_charging_orders(write_xlsx(tmp_path / "b.xlsx", source_columns(ORDER_COLUMNS, values)))


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such workbook"):
        load_usable_sessions(tmp_path / "nope.xlsx")
    write_xlsx(tmp_path / "usable_data.xlsx", source_columns(USABLE_COLUMNS, USABLE))
    with pytest.raises(FileNotFoundError, match=r"not found: \['EV_data1.xlsx', 'CSs_load.xlsx'\]"):
        load_paper_data(tmp_path)


def test_without_pandas_the_error_says_what_to_install(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "u.xlsx", source_columns(USABLE_COLUMNS, USABLE))
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ImportError, match=r"pip install evprice\[data\]"):
        load_usable_sessions(path)


def test_importing_the_package_does_not_import_pandas():
    import subprocess

    code = "import sys, evprice.data; assert 'pandas' not in sys.modules and 'openpyxl' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the real files (skipped when absent) --------------------------------------------------


def test_real_workbooks_have_the_documented_shapes(paper_data):
    usable, orders, load = paper_data.usable, paper_data.orders, paper_data.station_load
    assert len(usable) == 3357 and len(orders) == 5318 and load.load_kw.shape == (818, 96)
    assert np.isfinite(load.load_kw).all() and (load.load_kw >= 0).all()
    assert (np.diff(load.date) > np.timedelta64(0, "D")).all()  # one row per day, in order
    assert orders.abnormal_settlement.sum() == 3
    assert np.isnan(orders.soc_start_pct).sum() == 1435


def test_real_fees_and_capacity_follow_their_definitions(paper_data):
    usable, orders = paper_data.usable, paper_data.orders
    np.testing.assert_allclose(usable.energy_fee_cny + usable.service_fee_cny, usable.total_fee_cny, atol=1e-9)
    np.testing.assert_allclose(orders.energy_fee_cny + orders.service_fee_cny, orders.total_fee_cny, atol=1e-9)
    assert (orders.settled_amount_cny <= orders.total_fee_cny + 1e-9).all()
    capacity = usable.energy_kwh / (usable.soc_end_pct - usable.soc_start_pct) * 100
    np.testing.assert_allclose(capacity, usable.battery_capacity_kwh, atol=0.006)
    assert (orders.end_time >= orders.start_time).all()


# -- inputs that used to end in a traceback or be misread (issue 19) -------------------------


@pytest.mark.parametrize("content", [b"", b"hello\n", b"a,b\n1,2\n"])
def test_a_file_that_is_no_workbook_is_named(tmp_path, content):
    path = tmp_path / "orders.xlsx"
    path.write_bytes(content)
    with pytest.raises(PaperDataError, match=r"orders.xlsx: is not an .xlsx workbook \(BadZipFile"):
        load_charging_orders(path)


def test_a_zip_that_is_no_workbook_is_named(tmp_path):
    import zipfile

    path = tmp_path / "orders.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("f.txt", "x")
    with pytest.raises(PaperDataError, match=r"orders.xlsx: is not an .xlsx workbook"):
        load_charging_orders(path)


def test_a_logical_cell_is_not_read_as_one_kilowatt_hour(tmp_path):
    import openpyxl

    path = write_xlsx(tmp_path / "o.xlsx", source_columns(ORDER_COLUMNS, ORDERS))
    book = openpyxl.load_workbook(path)
    sheet = book.active
    column = [c.value for c in sheet[1]].index("Charged energy（ kWh）") + 1
    sheet.cell(row=3, column=column, value=True)  # a TRUE typed into an energy cell
    book.save(path)
    with pytest.raises(PaperDataError, match=r"holds TRUE / FALSE instead of numbers in rows \[3\]"):
        load_charging_orders(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"energy_kwh": [15.0, 1e300, 0.01]}, r"Charged energy（ kWh）' must be in \[0, 10000\]; rows \[3\]"),
        ({"energy_kwh": [15.0, -2.0, 0.01]}, r"must be in \[0, 10000\]; rows \[3\]"),
        ({"duration_min": [30, -70, 1]}, r"must be >= 0; rows \[3\]"),
        (
            {"end_time": ["2022-01-01 07:30:05", "2022-01-02 01:10:10", "2022-01-03 12:31:20"]},
            r"'End charging time' is before 'Start charging time' in rows \[2\]",
        ),
    ],
)
def test_orders_are_checked_for_type_sign_range_and_time_order(tmp_path, change, message):
    path = write_xlsx(tmp_path / "o.xlsx", source_columns(ORDER_COLUMNS, {**ORDERS, **change}))
    with pytest.raises(PaperDataError, match=message):
        load_charging_orders(path)


def test_session_files_that_fail_are_one_line_on_the_cli(tmp_path):
    from click.testing import CliRunner

    from evprice.cli import main

    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n")
    header_only = write_xlsx(tmp_path / "empty.xlsx", {name: [] for name in ORDER_COLUMNS})
    missing = write_xlsx(tmp_path / "missing.xlsx", {"Time to order": ["2022-01-01 08:00:00"]})
    for path, message in (
        (bad, "notes.txt: is not an .xlsx workbook"),
        (header_only, "holds no usable session (0 orders"),
        (missing, "missing columns"),
    ):
        result = CliRunner().invoke(main, ["rollout", "--set", f"sessions={path}"])
        assert result.exit_code == 2 and message in result.output, result.output
        assert "Traceback" not in result.output
