import pytest

from evprice.core.config import (
    ConfigError,
    check_choice,
    check_float,
    check_int,
    check_keys,
    check_scalar_or_list,
    load_overrides_file,
    parse_assignment,
)


def test_check_float_messages_name_field_value_and_range():
    assert check_float("x", 2, low=0) == 2.0
    with pytest.raises(ConfigError, match=r"x=-1 is invalid: expected a finite number in \[0, 1e\+09\]"):
        check_float("x", -1, low=0)
    with pytest.raises(ConfigError, match=r"in \(0, 1\]"):
        check_float("x", 0.0, low=0, high=1, low_open=True)
    for bad in (float("nan"), float("inf"), "3", True, None):
        with pytest.raises(ConfigError):
            check_float("x", bad)


def test_check_int():
    assert check_int("n", 4.0, low=1) == 4
    with pytest.raises(ConfigError, match=r"n=2.5 is invalid: expected an integer"):
        check_int("n", 2.5)
    with pytest.raises(ConfigError, match=r"in \[1, 3\]"):
        check_int("n", 4, low=1, high=3)


def test_check_choice_and_keys():
    assert check_choice("mode", "a", ("a", "b")) == "a"
    with pytest.raises(ConfigError, match=r"mode='c' is invalid: expected one of 'a', 'b'"):
        check_choice("mode", "c", ("a", "b"))
    with pytest.raises(ConfigError, match=r"unknown key 'n_staton'.*did you mean n_stations"):
        check_keys(["n_staton"], ["n_stations", "dt_s"], "Cfg")


def test_scalar_or_list():
    item = lambda k, v: check_int(k, v, low=1)  # noqa: E731
    assert check_scalar_or_list("c", 3, 2, item, "an int") == (3, 3)
    assert check_scalar_or_list("c", [1, 2], 2, item, "an int") == (1, 2)
    with pytest.raises(ConfigError, match=r"exactly 2 such values \(got 3\)"):
        check_scalar_or_list("c", [1, 2, 3], 2, item, "an int")
    with pytest.raises(ConfigError, match=r"c\[1\]=0 is invalid"):
        check_scalar_or_list("c", [1, 0], 2, item, "an int")


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
    from evprice.core.config import load_overrides_file

    path = tmp_path / "cfg.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_overrides_file(path)


def test_a_config_file_that_is_not_utf8_is_refused(tmp_path):
    from evprice.core.config import load_overrides_file

    path = tmp_path / "cfg.yaml"
    path.write_text("n_stations: 3\n", encoding="utf-16")
    with pytest.raises(ConfigError, match=r"cfg.yaml' is not UTF-8 text \(byte 0\): save it as UTF-8"):
        load_overrides_file(path)
    path.write_text("n_stations: 3\nenv: PublicCharging-v0\n", encoding="utf-8")
    assert load_overrides_file(path) == {"n_stations": 3, "env": "PublicCharging-v0"}
