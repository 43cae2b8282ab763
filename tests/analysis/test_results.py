"""An experiment's tidy tables (issue 21, friction 5): one number per row, read back as numbers."""

import gzip
import math

import pytest

from evprice.analysis import load_results
from evprice.analysis.results import curve_rows, path_rows, result_rows, write_tables

ROW = {
    "arm": "team",
    "env": "LogitBertrand-v0",
    "seed": 3,
    "reward": "team",
    "chargers_per_station": 4,
    "mean_price": [1.5, 1.6],
    "profit": [10.0, 12.5],
    "delta": None,
    "run_dir": "runs/team/seed_3",
    "path": {"hour": [0.0, 0.25], "price": [[1.5, 1.6], [1.4, 1.7]], "vm_min_pu": [0.96, 0.95],
             "grid_limits": {"vm_min_pu": 0.95}},
    "curve": {"metric": "eval_delta", "env_steps": [100, 200], "values": [0.2, 0.4]},
}  # fmt: skip
IDS = {"arm": "team", "env": "LogitBertrand-v0", "seed": 3, "reward": "team", "chargers_per_station": 4,
       "run_dir": "runs/team/seed_3"}  # fmt: skip


def test_results_are_one_number_per_run_station_and_metric():
    assert result_rows([ROW]) == [
        {**IDS, "station": "station_1", "metric": "mean_price", "value": 1.5},
        {**IDS, "station": "station_2", "metric": "mean_price", "value": 1.6},
        {**IDS, "station": "station_1", "metric": "profit", "value": 10.0},
        {**IDS, "station": "station_2", "metric": "profit", "value": 12.5},
        {**IDS, "station": "", "metric": "delta", "value": ""},  # undefined: an empty cell
    ]
    assert result_rows([{"arm": "a", "value": 2.0}]) == [{"arm": "a", "value": 2.0}]  # no known metric: kept whole
    # a metric that is a mapping (a grid arm's cost terms per episode): one row per term, numbers
    terms = result_rows([{"arm": "g", "grid_costs": {"voltage": 0.0, "carbon": 12.5}}])
    assert terms == [
        {"arm": "g", "station": "", "metric": "grid_costs.voltage", "value": 0.0},
        {"arm": "g", "station": "", "metric": "grid_costs.carbon", "value": 12.5},
    ]


def test_paths_and_curves_have_their_own_tables():
    rows = path_rows([ROW])
    assert {**IDS, "period": 1, "hour": 0.25, "quantity": "price", "station": "station_2", "value": 1.7} in rows
    assert {**IDS, "period": 0, "hour": 0.0, "quantity": "vm_min_pu", "station": "", "value": 0.96} in rows
    assert len(rows) == 2 * 2 + 2 and not any(r["quantity"] == "grid_limits" for r in rows)  # constants stay out
    assert curve_rows([ROW]) == [
        {**IDS, "metric": "eval_delta", "env_steps": 100.0, "value": 0.2},
        {**IDS, "metric": "eval_delta", "env_steps": 200.0, "value": 0.4},
    ]


def test_load_results_reads_numbers_as_numbers(tmp_path):
    written = write_tables(tmp_path, [ROW, {**ROW, "seed": 4, "path": None, "curve": None}])
    assert [p.name for p in written] == ["results.csv", "paths.csv.gz", "curves.csv.gz"]
    assert gzip.decompress((tmp_path / "paths.csv.gz").read_bytes()).startswith(b"arm,env,seed,")
    df = load_results(tmp_path)
    assert str(df["value"].dtype) == "float64" and str(df["seed"].dtype) == "int64"
    assert len(df) == 10 and math.isnan(df.loc[df["metric"] == "delta", "value"].iloc[0])
    profit = df[(df["metric"] == "profit") & (df["seed"] == 3)].groupby("station")["value"].sum()
    assert profit.to_dict() == {"station_1": 10.0, "station_2": 12.5}
    assert load_results(tmp_path, "paths")["value"].sum() == pytest.approx(1.5 + 1.6 + 1.4 + 1.7 + 0.96 + 0.95)
    assert list(load_results(tmp_path, "curves")["env_steps"]) == [100.0, 200.0]
    with pytest.raises(ValueError, match="table='episodes' is invalid"):
        load_results(tmp_path, "episodes")
    with pytest.raises(FileNotFoundError, match="expected the folder of an evprice experiment run"):
        load_results(tmp_path / "nope")


def test_a_table_the_new_rows_do_not_have_is_removed(tmp_path):
    write_tables(tmp_path, [ROW])
    write_tables(tmp_path, [{"session": 0, "delta": 0.5}])  # a later run without paths or curves
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]


def test_the_committed_reports_tables_load_with_numeric_values():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "docs" / "experiments"
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        df = load_results(folder)
        assert str(df["value"].dtype) == "float64" and len(df) > 0, folder.name


def test_lists_by_day_or_period_are_indexed_not_stations():
    row = {"method": "upper bounds", "seed": 0, "by_period": [0.0, 0.5], "prices": [1.4, 1.5], "terms": {"line": 1.0}}
    ids = {"method": "upper bounds", "seed": 0}
    assert result_rows([row]) == [
        {**ids, "station": "", "metric": "by_period[0]", "value": 0.0},
        {**ids, "station": "", "metric": "by_period[1]", "value": 0.5},
        {**ids, "station": "station_1", "metric": "prices", "value": 1.4},
        {**ids, "station": "station_2", "metric": "prices", "value": 1.5},
        {**ids, "station": "", "metric": "terms.line", "value": 1.0},
    ]
