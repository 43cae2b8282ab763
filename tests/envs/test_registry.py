"""The registry's configs: sections and the flat alias map for every key of every
registered environment, declared ranges with reasons, and scenario defaults (issue 18)."""

from __future__ import annotations

import dataclasses

import pytest

from evprice.core.config import ConfigError
from evprice.core.declared import declared, sections_of
from evprice.envs import registered_ids, spec
from evprice.grid.config import GridConfig
from evprice.market.config import MarketConfig

ENV_IDS = registered_ids()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_key_has_a_section_and_no_section_is_named_like_a_key(env_id):
    cls = spec(env_id).config_cls
    assert set(cls.alias_map()) == set(cls.field_names())
    assert not set(sections_of(cls).values()) & set(cls.field_names())


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_old_flat_key_and_its_alias_give_the_same_config(env_id):
    """The flat key a user typed before sections existed, its ``section.key`` alias and the key
    inside its section's mapping all set the same field (here to the value the scenario resolves)."""
    s = spec(env_id)
    base = s.make_config({})
    values = base.to_dict()
    for key, alias in s.config_cls.alias_map().items():
        section = alias.partition(".")[0]
        assert s.make_config({key: values[key]}) == base, key
        # make_config reads every form through flat_overrides: the same flat mapping, the same config
        sentinel = object()
        for overrides in ({alias: sentinel}, {section: {key: sentinel}}):
            assert s.config_cls.flat_overrides(overrides) == {key: sentinel}, overrides


@pytest.mark.parametrize(
    ("env_id", "key", "value", "attribute"),
    [
        ("PublicCharging-v0", "n_stations", 3, ("n_stations", 3)),
        ("PublicCharging-v0", "dwell_time_mean_h", 2.0, ("dwell_time_mean_h", 2.0)),
        ("PublicCharging-v0", "reward", "individual", ("reward", "individual")),
        ("PublicCharging-v0", "fixed_cost_per_h", 1.0, ("fixed_cost_per_h", (1.0, 1.0))),
        ("GridCharging-v0", "cost_weight_line", 2.5, ("cost_weight_line", 2.5)),
        ("SiouxFalls-v0", "road_volume_capacity_by_hour", 0.5, ("road_volume_capacity_by_hour", (0.5,) * 24)),
        ("LogitBertrand-v0", "mu", 0.5, ("mu", 0.5)),
    ],
)
def test_a_changed_value_reaches_the_field_in_every_form(env_id, key, value, attribute):
    s = spec(env_id)
    section = s.config_cls.alias_map()[key].partition(".")[0]
    made = [s.make_config(o) for o in ({key: value}, {f"{section}.{key}": value}, {section: {key: value}})]
    assert made[0] == made[1] == made[2] != s.make_config({})
    assert getattr(made[0], attribute[0]) == attribute[1]


def test_a_nested_config_reads_back_to_the_same_config():
    s = spec("CoupledNetwork-v0")
    cfg = s.make_config({"cost_weight_line": 2.0, "station_nodes": [3, 2, 1]})
    nested = cfg.to_nested_dict()
    assert {"market", "arrivals", "drivers", "costs", "learning", "coordination", "grid", "roads"} == set(nested)
    assert s.config_cls.from_overrides(nested) == cfg


def test_a_sectioned_key_of_another_scenario_is_named_as_theirs():
    for overrides in ({"grid.cost_weight_line": 1.0}, {"grid": {"cost_weight_line": 1.0}}):
        message = "'cost_weight_line' for PublicCharging-v0: it is a key of GridCharging-v0"
        with pytest.raises(ConfigError, match=message):
            spec("PublicCharging-v0").make_config(overrides)


CHECKED_BY_HAND = {
    "currency": "a non-empty label",
    "sessions": "a source name or an existing workbook",
    "leader": "a station id of this config",
    "station_buses": "buses of the chosen feeder",
    "monitored_lines": "lines of the chosen feeder",
    "feeder": "a built-in feeder",
    "solver": "a registered solver",
    "station_nodes": "nodes of the chosen road network",
    "road_network": "a built-in network or a CSV file",
    "road_saturation_by_hour": "one row or 24 rows of three saturations",
}
"""Fields whose allowed values depend on something other than numbers (a file, a feeder, a
network), checked in code that knows it; every other field declares its range."""


@pytest.mark.parametrize(
    "cls", [MarketConfig, GridConfig, *(spec(e).config_cls for e in ("CoupledNetwork-v0", "LogitBertrand-v0"))]
)
def test_every_other_field_declares_its_range_with_a_reason(cls):
    rules = declared(cls)
    for f in dataclasses.fields(cls):
        if f.name in CHECKED_BY_HAND:
            continue
        assert f.name in rules, f"{cls.__name__}.{f.name} declares no Accepts"
        a = rules[f.name]
        assert a.kind == "choice" or a.reason, f"{cls.__name__}.{f.name} gives no reason for its range"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"arrival_rate_per_h": 10.0, "arrivals_per_station_per_day": 20.0},
            r"arrivals_per_station_per_day=20.0 is invalid with arrival_rate_per_h=\(10.0,.*arrival_rate_per_h "
            r"replaces the built-in profile",
        ),
        (
            {"elec_price_per_kwh": [0.5] * 24, "elec_price_mean_per_kwh": 0.7},
            r"elec_price_mean_per_kwh=0.7 is invalid with elec_price_per_kwh=.*replaces the sinusoid",
        ),
        ({"waiting_spaces": 2}, r"waiting_spaces=\(2, 2\) is invalid with when_full='block'"),
    ],
)
def test_a_key_that_would_have_no_effect_is_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        spec("PublicCharging-v0").make_config(overrides)


def test_a_scenario_drops_its_own_default_that_an_override_makes_unused():
    """GridCharging-v0 sets arrivals_per_station_per_day=120; a user's arrival_rate_per_h
    replaces that profile, so the scenario's default is dropped instead of refused."""
    cfg = spec("GridCharging-v0").make_config({"arrival_rate_per_h": 12.0})
    assert cfg.arrival_rate_per_h == (12.0,) * 24
    assert cfg.arrivals_per_station_per_day == MarketConfig().arrivals_per_station_per_day
    with pytest.raises(ConfigError, match="arrivals_per_station_per_day=50.0 is invalid with arrival_rate_per_h"):
        spec("GridCharging-v0").make_config({"arrival_rate_per_h": 12.0, "arrivals_per_station_per_day": 50.0})
