"""Scenarios from files: your own city as one YAML file (stations, feeder, roads, demand,
tariffs and the rest of the config), validated like every config.

A scenario file (every key optional but ``stations``)::

    name: my-city
    description: twenty stations on Sioux Falls over the CIGRE MV feeder
    env: CoupledNetwork-v0          # the registered scenario it builds on (default: by what it has)
    stations:                       # one entry per station, in agent order
      - {id: mall, chargers: 10, power_kw: 60, waiting_spaces: 4, road_node: 3, bus: 11,
         price_min: 1.0, price_max: 2.0}
    grid:                           # the config's sections (market, arrivals, drivers, costs,
      feeder: feeders/cigre.json    #   learning, grid, roads), as in `evprice config --nested`
    roads:
      road_network: sioux_falls     # a built-in id, a TNTP _net.tntp or a CSV edge table
    demand:
      arrivals_per_station_per_day: 120
      trips: SiouxFalls_trips.tntp  # or origins: {node: weight}; the trips leaving each node
    tariffs:
      elec_price_per_kwh: {csv: tariff.csv, column: price}    # or 24 numbers
      carbon_g_per_kwh: {csv: carbon.csv, column: intensity}  # the external grid's, or 24 numbers

A station's keys are the per-station fields of the config (``chargers`` is
``chargers_per_station``, ``power_kw`` ``charger_power_kw``, ``road_node`` ``station_nodes``,
``bus`` ``station_buses``, and ``waiting_spaces``, ``price_min``, ``price_max``, ``utility``,
``marginal_cost_per_kwh``, ``fixed_cost_per_h``); a key no station gives keeps the base
scenario's value if it fits the number of stations. Paths are relative to the scenario
file. Every error names the file, the line and the key that set the value
(``stations[3].power_kw``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evprice.core.config import ConfigError
from evprice.core.overrides import UniqueKeyLoader, merge_overrides
from evprice.core.timing import HOURS_PER_DAY
from evprice.envs.registry import spec

STATION_KEYS: Mapping[str, str] = {
    "chargers": "chargers_per_station",
    "power_kw": "charger_power_kw",
    "waiting_spaces": "waiting_spaces",
    "road_node": "station_nodes",
    "bus": "station_buses",
    "price_min": "price_min",
    "price_max": "price_max",
    "utility": "station_utility",
    "marginal_cost_per_kwh": "marginal_cost_per_kwh",
    "fixed_cost_per_h": "fixed_cost_per_h",
}
"""A station entry's keys and the per-station config field each sets (``id`` is a label)."""
TOP_KEYS = ("name", "description", "env", "stations", "demand", "tariffs")
"""The scenario's own top-level keys; every other key is a config section or a config key."""
DEMAND_KEYS = ("arrivals_per_station_per_day", "arrival_rate_per_h", "origins", "trips", "sessions")
TARIFF_KEYS = ("elec_price_per_kwh", "carbon_g_per_kwh")
PATH_KEYS = ("feeder", "road_network", "sessions")
"""Config keys whose value may be a file, resolved relative to the scenario file."""


@dataclass(frozen=True)
class Scenario:
    """A scenario read from a file: the registered id it builds on and the config overrides
    that make it (keys flat or ``section.key``, file paths absolute), with the line and the
    scenario key each came from (``lines``: field -> (line, ``"stations[2].bus"``))."""

    name: str
    description: str
    path: str
    env_id: str
    overrides: Mapping[str, Any]
    station_ids: tuple[str, ...]
    lines: Mapping[str, tuple[int, str]] = field(default_factory=dict, repr=False)

    def make_config(self, overrides: Mapping[str, Any] | None = None) -> Any:
        """The scenario's config, with ``overrides`` (the user's ``--set``) on top; an error
        names the file, line and key when it concerns one the file set."""
        values = merge_overrides(dict(self.overrides), dict(overrides or {}))
        try:
            return spec(self.env_id).make_config(values)
        except ConfigError as err:
            raise self._located(err) from None

    def make(self, num_envs: int = 1, overrides: Mapping[str, Any] | None = None) -> Any:
        """The batched environment of the scenario (``num_envs`` members)."""
        return spec(self.env_id).make(self.make_config(overrides), num_envs)

    def _located(self, err: ConfigError) -> ConfigError:
        key = err.key or ""
        base, _, rest = key.partition("[")
        station = int(rest.split("]")[0]) if rest[:1].isdigit() else None
        where = self.lines.get(f"{base}[{station}]") if station is not None else None
        where = where or self.lines.get(base)
        if where is None:
            return ConfigError(f"scenario {self.path!r}: {err}", key=err.key)
        line, path = where
        return ConfigError(f"scenario {self.path!r}, line {line}, {path}: {err}", key=err.key)


def _lines(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """The 1-based line of every mapping value and list item, by its path of keys and indices."""
    out = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            out.update(_lines(value_node, (*path, key_node.value)))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(_lines(item, (*path, i)))
    return out


def _read(path: Path) -> tuple[dict[str, Any], dict[tuple[Any, ...], int]]:
    where = f"scenario {str(path)!r}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{where} cannot be read: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where} is not UTF-8 text: save it as UTF-8") from None
    try:
        node = yaml.compose(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
        data = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{where} is not valid YAML: {err}") from None
    if not isinstance(data, dict) or node is None:
        raise ConfigError(f"{where} must hold a mapping with at least a 'stations' list")
    return data, _lines(node)


def load_scenario(path: str | Path) -> Scenario:
    """The :class:`Scenario` of a YAML file (see the module docstring); raises a
    :class:`ConfigError` naming the file, line and key for anything it cannot use."""
    p = Path(path)
    data, lines = _read(p)
    where = f"scenario {str(p)!r}"
    base = p.resolve().parent

    def at(*keys: Any) -> str:
        line = lines.get(tuple(keys), lines.get(tuple(keys[:-1]), 1))
        return f"{where}, line {line}"

    def resolve(value: Any) -> Any:
        """A relative path that names a file beside the scenario, made absolute."""
        if isinstance(value, str) and not Path(value).is_absolute() and (base / value).exists():
            return str((base / value).resolve())
        return value

    stations = data.get("stations")
    if not isinstance(stations, list) or not stations or not all(isinstance(s, dict) for s in stations):
        raise ConfigError(f"{at('stations')}: 'stations' must be a non-empty list of station mappings")
    overrides: dict[str, Any] = {}
    located: dict[str, tuple[int, str]] = {}

    # the config's sections and flat keys, as `evprice config --nested` writes them
    config_layer = {k: v for k, v in data.items() if k not in TOP_KEYS}
    env_id = data.get("env")
    if env_id is None:  # by what the file has: roads, a feeder, or neither
        keys = set(config_layer) | {k for v in config_layer.values() if isinstance(v, Mapping) for k in v}
        keys |= {k for st in stations for k in st}
        demand = data.get("demand") if isinstance(data.get("demand"), Mapping) else {}
        has_roads = bool(keys & {"roads", "road_network", "road_node"} or demand.keys() & {"origins", "trips"})
        has_grid = bool(keys & {"grid", "feeder", "bus"})
        env_id = "CoupledNetwork-v0" if has_roads else "GridCharging-v0" if has_grid else "PublicCharging-v0"
    if not isinstance(env_id, str):
        raise ConfigError(f"{at('env')}: env={env_id!r} is invalid: expected a registered environment id")
    try:
        spec(env_id)
    except ConfigError as err:
        raise ConfigError(f"{at('env')}: {err}") from None
    for key, value in config_layer.items():
        if isinstance(value, Mapping):
            for sub, v in value.items():
                overrides[f"{key}.{sub}"] = resolve(v) if sub in PATH_KEYS else v
                located[str(sub)] = (lines.get((key, sub), 1), f"{key}.{sub}")
        else:
            overrides[key] = resolve(value) if key in PATH_KEYS else value
            located[str(key)] = (lines.get((key,), 1), str(key))
    flat_keys = {k.rpartition(".")[2] for k in overrides}

    # stations
    n = len(stations)
    overrides["n_stations"] = n
    located["n_stations"] = (lines.get(("stations",), 1), "stations")
    ids = []
    for i, st in enumerate(stations):
        unknown = sorted(set(st) - set(STATION_KEYS) - {"id"})
        if unknown:
            raise ConfigError(
                f"{at('stations', i, unknown[0])}: unknown key {unknown[0]!r} of stations[{i}]; allowed: "
                f"id, {', '.join(STATION_KEYS)}"
            )
        ids.append(str(st.get("id", f"station_{i + 1}")))
    if len(set(ids)) != n:
        raise ConfigError(f"{at('stations')}: station ids {ids} repeat: give each station its own id")
    for key, field_name in STATION_KEYS.items():
        given = [i for i, st in enumerate(stations) if key in st]
        if not given:
            continue
        if field_name in flat_keys:
            raise ConfigError(
                f"{at('stations', given[0], key)}: {field_name} is set both per station ({key}) and for the "
                "scenario: give it once"
            )
        if field_name in ("station_nodes", "station_buses") and len(given) != n:
            missing = sorted(set(range(n)) - set(given))
            raise ConfigError(
                f"{at('stations', missing[0])}: stations[{missing[0]}] has no {key}: give every station one"
            )
        default = _per_station_default(env_id, field_name, n)
        own = default if isinstance(default, tuple) else (default,) * n  # station i's default: its own entry
        values = [st.get(key, own[i]) for i, st in enumerate(stations)]
        if any(v is _NEEDED for v in values):
            missing = [i for i, v in enumerate(values) if v is _NEEDED]
            raise ConfigError(
                f"{at('stations', missing[0])}: stations[{missing[0]}] has no {key}, and the base scenario's "
                f"{field_name} is for another number of stations: give every station its {key}"
            )
        overrides[field_name] = values
        located[field_name] = (lines.get(("stations", given[0], key), 1), f"stations[{given[0]}].{key}")
        for i in given:
            located[f"{field_name}[{i}]"] = (lines.get(("stations", i, key), 1), f"stations[{i}].{key}")

    _demand(data.get("demand"), overrides, located, lines, at, resolve)
    _tariffs(data.get("tariffs"), overrides, located, lines, at, resolve)
    if "_origins" in overrides:
        kind, value = overrides.pop("_origins")
        overrides["origin_weights"] = _origin_weights(env_id, overrides, kind, value, at("demand", kind))
    try:
        _fit_base_defaults(env_id, n, overrides)
    except ConfigError as err:
        raise ConfigError(f"{at('stations')}: {err}") from None
    scenario = Scenario(
        name=str(data.get("name", p.stem)),
        description=str(data.get("description", "")),
        path=str(p),
        env_id=env_id,
        overrides=overrides,
        station_ids=tuple(ids),
        lines=located,
    )
    scenario.make_config()  # every value checked now, with the file's lines
    return scenario


_NEEDED = object()
"""A per-station field the base scenario sets for another number of stations."""


def _per_station_default(env_id: str, field_name: str, n: int) -> Any:
    """What a station that does not give ``field_name`` gets: the base scenario's value (one
    for every station, or its per-station tuple of length ``n``), else the config class's
    default; :data:`_NEEDED` when the base's tuple is for another number of stations."""
    from evprice.market.config import MarketConfig

    defaults = spec(env_id).defaults
    if field_name in defaults:
        value = defaults[field_name]
        if isinstance(value, Sequence) and not isinstance(value, str):
            return _NEEDED if len(value) != n else tuple(value)
        return value
    fields = MarketConfig.__dataclass_fields__
    return fields[field_name].default if field_name in fields else None


def _fit_base_defaults(env_id: str, n: int, overrides: dict[str, Any]) -> None:
    """A per-station default of the base scenario for another number of stations, not set by
    the file, is replaced by the config class's default (one value for every station)."""
    from evprice.core.declared import declared

    cls = spec(env_id).config_cls
    per_station = {name for name, accepts in declared(cls).items() if accepts.shape == "station"}
    given = {k.rpartition(".")[2] for k in overrides}
    for key, value in spec(env_id).defaults.items():
        if key in given or key not in per_station or not isinstance(value, tuple) or len(value) == n:
            continue
        if key in ("price_min", "price_max"):
            raise ConfigError(
                f"{key} of {env_id} is for {len(value)} stations, the scenario has {n}: give each station its "
                f"{key} (or {key} for the scenario)"
            )
        overrides[key] = cls.__dataclass_fields__[key].default


def _demand(demand: Any, overrides: dict[str, Any], located: dict, lines: dict, at: Any, resolve: Any) -> None:
    if demand is None:
        return
    if not isinstance(demand, Mapping):
        raise ConfigError(f"{at('demand')}: 'demand' must be a mapping of {', '.join(DEMAND_KEYS)}")
    for key, value in demand.items():
        if key not in DEMAND_KEYS:
            raise ConfigError(f"{at('demand', key)}: unknown key {key!r} of demand; allowed: {', '.join(DEMAND_KEYS)}")
        line = (lines.get(("demand", key), 1), f"demand.{key}")
        if key in ("origins", "trips"):
            if "origins" in demand and "trips" in demand:
                raise ConfigError(f"{at('demand', key)}: give demand.origins or demand.trips, not both")
            if key == "trips":
                value = resolve(value)
            elif isinstance(value, Mapping) and "csv" in value:  # a table of hourly rates by node
                value = {**value, "csv": resolve(value["csv"])}
            overrides["_origins"] = (key, value)
            located["origin_weights"] = line
            continue
        overrides[key] = resolve(value) if key == "sessions" else value
        located[key] = line


def _tariffs(tariffs: Any, overrides: dict[str, Any], located: dict, lines: dict, at: Any, resolve: Any) -> None:
    if tariffs is None:
        return
    if not isinstance(tariffs, Mapping):
        raise ConfigError(f"{at('tariffs')}: 'tariffs' must be a mapping of {', '.join(TARIFF_KEYS)}")
    from evprice.data.series import load_series_csv

    for key, value in tariffs.items():
        if key not in TARIFF_KEYS:
            raise ConfigError(
                f"{at('tariffs', key)}: unknown key {key!r} of tariffs; allowed: {', '.join(TARIFF_KEYS)}"
            )
        if isinstance(value, Mapping):
            csv_path = resolve(value.get("csv"))
            if set(value) != {"csv", "column"} or not isinstance(csv_path, str) or not Path(csv_path).is_file():
                raise ConfigError(
                    f"{at('tariffs', key)}: {value!r} is invalid: a series file is {{csv: FILE, column: NAME}} "
                    "with FILE an existing CSV beside the scenario"
                )
            try:
                series = load_series_csv(csv_path, str(value["column"]))
            except ConfigError as err:
                raise ConfigError(f"{at('tariffs', key)}: {err}") from None
            if len(series) != 24:
                raise ConfigError(f"{at('tariffs', key)}: the series has {len(series)} hours: expected one day (24)")
            value = series.tolist()
        field_name = "ext_grid_emission_g_per_kwh" if key == "carbon_g_per_kwh" else key
        overrides[field_name] = value
        located[field_name] = (lines.get(("tariffs", key), 1), f"tariffs.{key}")


def _origin_weights(
    env_id: str, overrides: Mapping[str, Any], kind: str, value: Any, where: str
) -> tuple[float, ...] | tuple[tuple[float, ...], ...]:
    """One weight per node of the scenario's road network, from ``demand.origins`` or
    ``demand.trips`` (a TNTP trip table: the trips leaving each node).

    ``demand.origins`` maps node labels to a weight (other nodes 0), or to 24 hourly weights
    (a node's own daily profile; a node given one number keeps it every hour); or it is
    ``{csv: FILE}``, a table with a column ``hour`` (0 to 23) and one column per node label.
    Hourly weights come back as 24 tuples of one weight per node."""
    from evprice.transport import load_network
    from evprice.transport.tntp import origin_weights, read_tntp_trips

    flat = spec(env_id).config_cls.flat_overrides(overrides)
    name = flat.get("road_network", spec(env_id).defaults.get("road_network"))
    if name is None:
        name = spec(env_id).config_cls.__dataclass_fields__.get("road_network")
        name = None if name is None else name.default
    if name is None:
        raise ConfigError(f"{where}: demand.{kind} needs a road network (a scenario with roads)")
    if kind == "trips" and not (isinstance(value, str) and Path(value).is_file()):
        raise ConfigError(f"{where}: demand.trips={value!r} is invalid: expected the path of a TNTP _trips.tntp file")
    try:
        network = load_network(name)
        if kind == "trips":
            zones, trips = read_tntp_trips(value)
            return origin_weights(network, zones, trips)
        if isinstance(value, Mapping) and "csv" in value:
            value = _origin_table(value, where)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(
            f"{where}: demand.origins must map road nodes to weights (or to 24 hourly weights), e.g. "
            "{1: 2.0, 5: 1.0}, or be {csv: FILE} with a column hour and one column per node"
        )
    labels = set(map(int, network.node_labels))
    unknown = [k for k in value if not isinstance(k, int) or isinstance(k, bool) or k not in labels]
    if unknown:
        raise ConfigError(f"{where}: demand.origins names {unknown[:5]}, not nodes of network {network.name!r}")
    hourly = {k: v for k, v in value.items() if isinstance(v, (list, tuple))}
    for node, weights in hourly.items():
        if len(weights) != HOURS_PER_DAY:
            raise ConfigError(
                f"{where}: demand.origins[{node}] has {len(weights)} values: expected one weight or "
                f"{HOURS_PER_DAY} hourly weights (hours 0 to 23)"
            )
    if not hourly:
        return tuple(_weight(value.get(int(label), 0.0)) for label in network.node_labels)
    return tuple(
        tuple(
            _weight(v[hour] if isinstance(v, (list, tuple)) else v)
            for label in network.node_labels
            for v in [value.get(int(label), 0.0)]
        )
        for hour in range(HOURS_PER_DAY)
    )


def _weight(value: Any) -> Any:
    """A weight as the config will check it (a number stays a float; anything else is left
    for the config's own message, which names the hour and node index)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _origin_table(value: Mapping[str, Any], where: str) -> dict[int, list[float]]:
    """``{node label: 24 hourly weights}`` from ``{csv: FILE}``: a column ``hour`` (0 to 23, in
    order) and one column per node label; nodes left out weigh 0."""
    import csv

    from evprice.data.series import load_series_csv

    path = value["csv"]
    if set(value) != {"csv"} or not isinstance(path, str) or not Path(path).is_file():
        raise ConfigError(
            f"demand.origins={dict(value)!r} is invalid: an origin table is {{csv: FILE}}, an existing file with a "
            "column hour and one column per node label"
        )
    with open(path, newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f), [])
    columns = [c for c in header if c != "hour"]
    bad = [c for c in columns if not c.strip().isdigit()]
    if bad or not columns:
        raise ConfigError(
            f"origin table {path!r}: columns {bad or header} are not node labels: expected a column hour and one "
            "column per node label (1, 2, ...)"
        )
    table = {}
    for column in columns:
        series = load_series_csv(path, column)
        if series.size != HOURS_PER_DAY:
            raise ConfigError(f"origin table {path!r} has {series.size} rows: expected {HOURS_PER_DAY} (hours 0 to 23)")
        table[int(column)] = series.tolist()
    return table
