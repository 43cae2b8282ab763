"""Reading a user's keys: assignments, YAML files, sections and the flat alias map (issue 18)."""

import pytest

from evprice.core.config import ConfigError
from evprice.core.overrides import (
    alias_map,
    flatten_sections,
    load_overrides_file,
    merge_overrides,
    nest_sections,
    parse_assignment,
)

SECTIONS = {"n": "size", "m": "size", "w": "cost"}
"""A toy config: fields n and m in section size, w in section cost, flat-only field f."""


def test_parse_assignment_reads_yaml_values():
    assert parse_assignment("n_stations=3") == ("n_stations", 3)
    assert parse_assignment("chargers_per_station=[2, 6]") == ("chargers_per_station", [2, 6])
    assert parse_assignment("outside_option_utility=null") == ("outside_option_utility", None)
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_assignment("n_stations")


def test_load_overrides_file(tmp_path):
    good = tmp_path / "a.yaml"
    good.write_text("n_stations: 3\nnoise: normal\n")
    assert load_overrides_file(good) == {"n_stations": 3, "noise": "normal"}
    bad = tmp_path / "b.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_overrides_file(bad)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_overrides_file(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("n_stations: 3\nn_stations: 4\n", r"key 'n_stations' is given twice \(lines 1 and 2\)"),
        ("env: [a, b]\n", r"env=\['a', 'b'\] is invalid: expected an environment id"),
        ("a:\n  b: 1\n  b: 2\n", "key 'b' is given twice"),
    ],
)
def test_config_files_that_would_be_misread_are_refused(tmp_path, content, message):
    """Issue 19: duplicate keys (the last one won silently) and a list for env."""
    path = tmp_path / "cfg.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_overrides_file(path)


def test_a_config_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("n_stations: 3\n", encoding="utf-16")
    with pytest.raises(ConfigError, match=r"cfg.yaml' is not UTF-8 text \(byte 0\): save it as UTF-8"):
        load_overrides_file(path)
    path.write_text("n_stations: 3\nenv: PublicCharging-v0\n", encoding="utf-8")
    assert load_overrides_file(path) == {"n_stations": 3, "env": "PublicCharging-v0"}


def test_flat_dotted_and_nested_keys_give_the_same_flat_mapping():
    flat = {"n": 3, "w": 0.5, "f": "x"}
    assert flatten_sections(flat, SECTIONS, "Toy") == flat
    assert flatten_sections({"size.n": 3, "cost.w": 0.5, "f": "x"}, SECTIONS, "Toy") == flat
    assert flatten_sections({"size": {"n": 3}, "cost": {"w": 0.5}, "f": "x"}, SECTIONS, "Toy") == flat
    assert alias_map(SECTIONS) == {"n": "size.n", "m": "size.m", "w": "cost.w"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n": 3, "size.n": 4}, r"'n' is given twice for Toy, as 'n' and as 'size.n': give it once"),
        ({"size": {"n": 3}, "size.n": 4}, r"'n' is given twice for Toy, as 'size.n' and as 'size.n'"),
        ({"cost.n": 3}, r"cost.n is not a key of Toy: 'n' is in section 'size'; write size.n or n"),
        ({"cots.w": 3}, r"unknown section 'cots' for Toy \(did you mean cost\?\); sections: cost, size"),
        ({"size.q": 3}, r"unknown key 'q' for section 'size' of Toy; allowed keys: m, n"),
        ({"size": 3}, r"size=3 is invalid: 'size' is a section of Toy, expected a mapping of its keys"),
        ({"n.k": 3}, r"n.k is not a key of Toy: 'n' is a key, not a section"),
    ],
)
def test_keys_given_twice_or_under_the_wrong_section_are_refused_by_name(overrides, message):
    with pytest.raises(ConfigError, match=message):
        flatten_sections(overrides, SECTIONS, "Toy")


def test_an_unknown_flat_key_passes_through_for_the_configs_own_check():
    assert flatten_sections({"nn": 1}, SECTIONS, "Toy") == {"nn": 1}


def test_nest_sections_groups_by_section_and_reads_back():
    flat = {"f": "x", "n": 3, "w": 0.5, "m": 1}
    nested = nest_sections(flat, SECTIONS)
    assert nested == {"f": "x", "size": {"n": 3, "m": 1}, "cost": {"w": 0.5}}
    assert flatten_sections(nested, SECTIONS, "Toy") == flat


def test_a_later_layer_wins_whichever_form_each_layer_gives_a_key_in():
    file_layer = {"size": {"n": 3, "m": 2}, "f": "x"}
    assert merge_overrides(file_layer, {"n": 5}) == {"size.m": 2, "f": "x", "n": 5}
    assert merge_overrides({"n": 5}, {"size.n": 6}) == {"size.n": 6}
    assert merge_overrides({"cost.w": 1}, {"cost": {"w": 2}}, {"f": "y"}) == {"cost.w": 2, "f": "y"}
    # within one layer both forms stay, so that flattening names the duplicate
    with pytest.raises(ConfigError, match="given twice"):
        flatten_sections(merge_overrides({"n": 1, "size.n": 2}), SECTIONS, "Toy")
