"""Scenario files (issue 20): the shipped examples, the equivalence with a registered id, and
errors that name the file, the line and the key."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import evprice
from evprice.core.config import ConfigError
from evprice.envs import make_env, spec
from evprice.envs.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _write(tmp_path: Path, doc: dict | str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_a_scenario_of_a_registered_ids_stations_is_that_id(tmp_path):
    """CoupledNetwork-v0's three stations written as a scenario give its config and its trajectory."""
    base = spec("CoupledNetwork-v0").make_config({})
    stations = [
        {"road_node": base.station_nodes[i], "bus": base.buses(base.make_feeder())[i],
         "price_min": base.price_min[i], "price_max": base.price_max[i]}
        for i in range(3)
    ]  # fmt: skip
    scenario = load_scenario(_write(tmp_path, {"env": "CoupledNetwork-v0", "stations": stations}))
    assert scenario.env_id == "CoupledNetwork-v0" and scenario.station_ids == ("station_1", "station_2", "station_3")
    assert scenario.make_config() == base.replace(station_buses=base.buses(base.make_feeder()))
    a, b = scenario.make(2), make_env("CoupledNetwork-v0", 2)
    np.testing.assert_array_equal(a.reset(3), b.reset(3))
    rng = np.random.default_rng(0)
    for _ in range(4):
        act = rng.uniform(-1, 1, (2, 3, 1))
        ra, rb = a.step(act), b.step(act)
        np.testing.assert_array_equal(ra[0], rb[0])
        np.testing.assert_array_equal(ra[1], rb[1])
        np.testing.assert_array_equal(ra[4]["cost"], rb[4]["cost"])


@pytest.mark.parametrize("name", ["my_town.yaml", "sioux_falls_20.yaml", "market_only.yaml"])
def test_the_shipped_examples_load_and_run(name):
    scenario = load_scenario(EXAMPLES / name)
    env = evprice.make_vec(str(EXAMPLES / name), 2)
    obs, _ = env.reset(seed=0)
    n = len(scenario.station_ids)
    assert obs.shape[:2] == (2, n)
    obs, reward, terminated, truncated, info = env.step(np.zeros((2, n, 1)))
    assert np.isfinite(obs).all() and np.isfinite(reward).all()


def test_my_town_reads_every_file_it_names():
    scenario = load_scenario(EXAMPLES / "my_town.yaml")
    cfg = scenario.make_config()
    assert scenario.env_id == "CoupledNetwork-v0"
    assert cfg.feeder.endswith("town_feeder.m") and cfg.road_network.endswith("town_net.tntp")
    assert cfg.origin_weights == (500.0, 500.0, 250.0, 200.0, 400.0, 150.0)  # trips leaving each node
    assert cfg.elec_price_per_kwh[0] == 0.45 and cfg.elec_price_per_kwh[18] == 1.05
    assert cfg.ext_grid_emission_g_per_kwh[19] == 640.0
    assert cfg.chargers_per_station == (8, 6, 4, 10) and cfg.charger_power_kw == (50.0, 120.0, 50.0, 22.0)
    assert cfg.station_buses == (3, 5, 8, 7)  # the MATPOWER bus numbers
    env = scenario.make(1)
    feeder = env.coupling("grid").grid.feeder
    assert [feeder.bus_labels[b] for b in env.coupling("grid").station_buses] == [3, 5, 8, 7]


def test_set_overrides_apply_on_top_of_the_scenario():
    scenario = load_scenario(EXAMPLES / "my_town.yaml")
    assert scenario.make_config({"horizon_h": 12.0, "grid.vm_min_pu": 0.9}).horizon_h == 12.0
    env = evprice.make_scenario(EXAMPLES / "my_town.yaml", horizon_h=6.0)
    assert env.env.config.horizon_h == 6.0 and len(env.possible_agents) == 4
    with pytest.raises(ConfigError, match="expected the path of a .yaml scenario file"):
        evprice.make_scenario("CoupledNetwork-v0")


BASE = """\
stations:
  - id: a
    chargers: 4
    road_node: 1
    bus: 17
    price_min: 1.0
    price_max: 1.5
  - {id: b, chargers: 4, road_node: 2, bus: 24, price_min: 1.0, price_max: 1.5}
grid:
  feeder: case33bw
roads:
  road_network: doc2
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("id: b, chargers: 4", "id: b, chargers: 0", r"line 8, stations\[1\].chargers: chargers_per_station\[1\]=0 is"),
        (
            "bus: 24",
            "bus: 40",
            r"line 8, stations\[1\].bus: station_buses\[1\]=40 is invalid: expected an integer in \[0, 32\]",
        ),
        ("road_node: 1", "road_node: 99", r"line 4, stations\[0\].road_node: station_nodes=\[99, 2\] is invalid"),
        ("bus: 17", "bus: 0", r"line 5, stations\[0\].bus: station_buses=\[0, 24\] is invalid: .* substation"),
        (
            "price_max: 1.5\n  -",
            "price_max: 1.5\n    colour: red\n  -",
            r"line 8: unknown key 'colour' of stations\[0\]",
        ),
        (", bus: 24", "", r"line 8: stations\[1\] has no bus: give every station one"),
        ("feeder: case33bw", "feeder: missing.json", r"line 10, grid.feeder: feeder='missing.json' is invalid"),
        (
            "feeder: case33bw",
            "feeder: case33bw\n  vm_min_pu: 1.2",
            r"line 11, grid.vm_min_pu: vm_min_pu=1.2 is invalid",
        ),
        (
            "road_network: doc2",
            "road_network: doc2\n  station_nodes: [1, 2]",
            r"line 4: station_nodes is set both per station \(road_node\) and for the",
        ),
        ("roads:", "demand:\n  origins: {1: 1.0, 42: 2.0}\nroads:", r"line 12: demand.origins names \[42\], not nodes"),
        ("roads:", "demand:\n  when: 3\nroads:", r"line 12: unknown key 'when' of demand"),
        (
            "roads:",
            "tariffs:\n  elec_price_per_kwh: [0.5, 0.6]\nroads:",
            r"line 12, tariffs.elec_price_per_kwh: elec_price_per",
        ),
        ("stations:", "env: Nowhere-v0\nstations:", r"line 1: unknown environment id 'Nowhere-v0'"),
        ("id: b,", "id: a,", r"line 2: station ids \['a', 'a'\] repeat"),
    ],
)
def test_errors_name_the_file_the_line_and_the_key(tmp_path, old, new, message):
    assert old in BASE
    path = _write(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"scenario {str(path)!r}")


def test_bad_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        load_scenario(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="must be a non-empty list of station mappings"):
        load_scenario(_write(tmp_path, {"stations": []}))
    with pytest.raises(ConfigError, match=r"key 'stations' is given twice \(lines 1 and 2\)"):
        load_scenario(_write(tmp_path, "stations: []\nstations: []\n"))
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_scenario(_write(tmp_path, "stations: [\n"))


def test_a_feeder_file_with_its_own_bus_labels(tmp_path):
    """A pandapower JSON feeder whose buses are not 0..n-1: stations name its labels."""
    pp = pytest.importorskip("pandapower")
    net = pp.create_empty_network(sn_mva=1.0)
    buses = [pp.create_bus(net, 11.0, index=k) for k in (10, 20, 30, 40)]
    pp.create_ext_grid(net, buses[0])
    for a, b in zip(buses, buses[1:]):
        pp.create_line_from_parameters(net, a, b, 2.0, 0.3, 0.3, 0.0, 0.3)
    for b in buses[1:]:
        pp.create_load(net, b, p_mw=0.3, q_mvar=0.1)
    feeder_path = tmp_path / "labels.json"
    pp.to_json(net, str(feeder_path))
    doc = {
        "stations": [{"bus": 40, "price_min": 1.0, "price_max": 1.5}, {"bus": 20, "price_min": 1.0, "price_max": 1.5}],
        "grid": {"feeder": "labels.json"},
    }
    scenario = load_scenario(_write(tmp_path, doc))
    assert scenario.env_id == "GridCharging-v0"
    env = scenario.make(1)
    assert env.coupling("grid").station_buses == (3, 1)  # indices of labels 40 and 20
    doc["stations"][0]["bus"] = 15
    with pytest.raises(
        ConfigError, match=r"line \d+, stations\[0\].bus: station_buses=\[15, 20\] is invalid: .* bus labels"
    ):
        load_scenario(_write(tmp_path, doc))


MARKET_BASE = "stations:\n  - {chargers: 4}\n  - {chargers: 2}\n"
"""A scenario without a feeder or roads (which decides its base environment from what it has)."""
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 50), st.floats(allow_nan=True), st.text(max_size=6),
    st.sampled_from(["doc2", "case33bw", "x.csv", "cigre_mv", 1e300, -1]),
)  # fmt: skip
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=4), SCALARS, max_size=2))
PLACES = st.sampled_from(
    [
        ("stations", 0, "chargers"), ("stations", 1, "bus"), ("stations", 0, "road_node"), ("stations", 1, "price_max"),
        ("stations", 0, "id"), ("stations", 0, "waiting_spaces"), ("grid", "feeder"), ("grid", "vm_min_pu"),
        ("roads", "road_network"), ("demand", "origins"), ("demand", "trips"), ("demand", "sessions"),
        ("tariffs", "elec_price_per_kwh"), ("tariffs", "carbon_g_per_kwh"), ("env",), ("stations",), ("market",),
        ("demand",), ("tariffs",), ("name",),
    ]
)  # fmt: skip


@settings(
    max_examples=int(os.environ.get("EVPRICE_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(base=st.sampled_from([BASE, MARKET_BASE]), place=PLACES, value=VALUES)
def test_any_value_anywhere_is_refused_by_a_config_error_or_runs(tmp_path_factory, base, place, value):
    """No traceback from any input: a scenario with any value at any key either loads (and its
    environment steps) or stops with a ConfigError that names the file."""
    doc = yaml.safe_load(base)
    target = doc
    for key in place[:-1]:
        target = target.setdefault(key, {}) if isinstance(key, str) else target[key]
    target[place[-1]] = value
    path = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    try:
        scenario = load_scenario(path)
    except ConfigError as err:
        assert str(err).startswith(f"scenario {str(path)!r}")
        return
    env = scenario.make(1)
    env.reset(0)
    env.step(np.zeros((1, env.n_agents, 1)))


def test_a_station_that_does_not_give_a_key_keeps_its_own_base_value(tmp_path):
    """CoupledNetwork-v0's price_max is (1.4, 1.5, 1.4): a scenario that sets station 1's only
    keeps 1.5 and 1.4 for the others (not station 1's base value for all)."""
    stations = [{"road_node": n, "bus": b} for n, b in ((1, 31), (2, 13), (3, 19))]
    stations[0]["price_max"] = 1.45
    cfg = load_scenario(_write(tmp_path, {"env": "CoupledNetwork-v0", "stations": stations})).make_config()
    assert cfg.price_max == (1.45, 1.5, 1.4)


def test_origins_take_a_daily_profile_per_node_from_the_file_or_a_table(tmp_path):
    """demand.origins: a node's 24 hourly weights (others keep one number every hour), or a CSV
    table of hours by node; doc2's road network has 13 nodes."""
    morning = [2.0] * 12 + [0.0] * 12
    doc = BASE + f"demand:\n  origins: {{1: {morning}, 3: 1.5}}\n"
    cfg = load_scenario(_write(tmp_path, doc)).make_config()
    assert len(cfg.origin_weights) == 24 and cfg.n_origins == 13
    assert cfg.origin_weights[0][:3] == (2.0, 0.0, 1.5) and cfg.origin_weights[20][:3] == (0.0, 0.0, 1.5)
    table = tmp_path / "origins.csv"
    table.write_text("hour,1,3\n" + "".join(f"{h},{morning[h]},1.5\n" for h in range(24)), encoding="utf-8")
    by_table = load_scenario(_write(tmp_path, BASE + "demand:\n  origins: {csv: origins.csv}\n", "t.yaml"))
    assert by_table.make_config().origin_weights == cfg.origin_weights
    env = by_table.make(1)  # and it runs: an arrival's zone follows its hour
    env.reset(0)
    env.step(np.zeros((1, 2, 1)))
    for text, message in (
        ("demand:\n  origins: {1: [1.0, 2.0]}\n", r"line 14: demand.origins\[1\] has 2 values: expected one"),
        ("demand:\n  origins: {csv: nowhere.csv}\n", r"line 14: .*an origin table is \{csv: FILE\}"),
        (f"demand:\n  origins: {{1: {[1.0] * 5 + [0.0] + [1.0] * 18}}}\n", r"line 14, .*hour 5's weights sum to 0"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_scenario(_write(tmp_path, BASE + text, "bad.yaml")).make_config()
    (tmp_path / "short.csv").write_text("hour,1\n0,1.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"series file .*short.csv' has 1 hourly values"):
        load_scenario(_write(tmp_path, BASE + "demand:\n  origins: {csv: short.csv}\n", "s.yaml"))
    (tmp_path / "names.csv").write_text("hour,north\n" + "".join(f"{h},1\n" for h in range(24)), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"columns \['north'\] are not node labels"):
        load_scenario(_write(tmp_path, BASE + "demand:\n  origins: {csv: names.csv}\n", "n.yaml"))


ORIGIN_VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, min_size=23, max_size=25),
    st.lists(st.floats(0.0, 5.0), min_size=24, max_size=24),
    st.lists(st.lists(st.floats(0.0, 2.0), max_size=2), min_size=24, max_size=24),
)


@settings(
    max_examples=int(os.environ.get("EVPRICE_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    origins=st.one_of(
        st.dictionaries(st.integers(-2, 15), ORIGIN_VALUES, max_size=3),
        st.fixed_dictionaries({"csv": st.sampled_from(["o.csv", "none.csv", 3])}),
    ),
    table=st.sampled_from(["hour,1,2\n" + "".join(f"{h},1,{h % 2}\n" for h in range(24)), "hour,1\n0,x\n", ""]),
)
def test_any_origins_are_refused_by_a_config_error_or_run(tmp_path_factory, origins, table):
    """demand.origins of any shape (a node's weight, 24 hourly weights, a table): it loads and
    steps, or stops with a ConfigError naming the file."""
    folder = tmp_path_factory.mktemp("origins")
    (folder / "o.csv").write_text(table, encoding="utf-8")
    doc = yaml.safe_load(BASE)
    doc["demand"] = {"origins": origins}
    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    try:
        scenario = load_scenario(path)
        env = scenario.make(1)
    except ConfigError as err:
        assert str(err).startswith(f"scenario {str(path)!r}")
        return
    env.reset(0)
    env.step(np.zeros((1, env.n_agents, 1)))
