import pytest

from evprice.core.config import ConfigError, check_choice, check_float, check_int, check_keys, check_scalar_or_list


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
