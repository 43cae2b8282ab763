"""Declared fields and the one validator, on a toy config whose rules are worked out by hand (issue 18)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from evprice.core.config import LARGEST_MAGNITUDE, ConfigError
from evprice.core.declared import ConfigMixin, choice, config_field, declared, describe_fields, flag, integer, number


@dataclass(frozen=True)
class Toy(ConfigMixin):
    CONFIG_NAME = "Toy"
    MODES = ("a", "b")

    n_stations: int = config_field(2, "1", "stations", integer(1, 5, reason="a toy"), section="size")
    power_kw: float | tuple[float, ...] = config_field(
        3.0, "kW", "power", number(0.0, 10.0, low_open=True, shape="station", reason="ten"), section="size"
    )
    share: float = config_field(0.2, "1", "share", number(0.0, lambda c: 1.0 / c.n_stations, reason="sums to 1"))
    mode: str = config_field("a", "-", "mode", choice("MODES"), section="rule")
    only_b: float = config_field(
        1.0, "1", "used by mode b", number(0.0, used_when=("mode", ("b",)), unused_why="a ignores it"), section="rule"
    )
    free: float = config_field(0.0, "1", "unbounded", number())
    on: bool = config_field(True, "-", "a switch", flag())
    label: str = config_field("x", "-", "checked by hand, not declared")

    def __post_init__(self) -> None:
        self.check_declared()


def test_values_are_normalised_to_their_shape():
    t = Toy(power_kw=[1, 2], n_stations=2.0)
    assert t.power_kw == (1.0, 2.0) and isinstance(t.n_stations, int)
    assert Toy(n_stations=3).power_kw == (3.0, 3.0, 3.0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_stations": 6}, r"n_stations=6 is invalid: expected an integer in \[1, 5\]"),
        ({"power_kw": 0}, r"power_kw=0 is invalid: expected a finite number in \(0, 10\]"),
        ({"power_kw": [1, 2, 3]}, r"or a list of exactly 2 such values \(got 3\)"),
        ({"share": 0.6}, r"share=0.6 is invalid: expected a finite number in \[0, 0.5\]"),  # 1 / n_stations
        ({"mode": "c"}, r"mode='c' is invalid: expected one of 'a', 'b'"),
        ({"free": 2e9}, r"free=2000000000.0 is invalid: expected a finite number in \[-1e\+09, 1e\+09\]"),
        ({"only_b": 2.0}, r"only_b=2.0 is invalid with mode='a': it has no effect there \(a ignores it\)"),
        ({"on": 1}, r"on=1 is invalid: expected true or false"),
        ({"power_kw": None}, r"power_kw=None is invalid: expected a finite number in \(0, 10\], or a list of 2 such"),
    ],
)
def test_each_declared_rule_refuses_by_name(overrides, message):
    with pytest.raises(ConfigError, match=message):
        Toy.from_overrides(overrides)


def test_a_bound_that_depends_on_another_field_follows_it_and_used_when_follows_the_switch():
    assert Toy(n_stations=4, share=0.25).share == 0.25
    assert Toy(mode="b", only_b=2.0).only_b == 2.0
    assert Toy.unused_fields({"mode": "a"}) == ("only_b",) and Toy.unused_fields({"mode": "b"}) == ()
    assert Toy().unused_here() == {"only_b": "mode='a'"}


def test_declared_lists_the_declared_fields_and_the_reference_shows_their_range_and_reason():
    assert list(declared(Toy)) == ["n_stations", "power_kw", "share", "mode", "only_b", "free", "on"]
    rows = {r["name"]: r for r in describe_fields(Toy)}
    assert rows["power_kw"]["allowed"] == "a finite number in (0, 10]" and rows["power_kw"]["reason"] == "ten"
    assert rows["share"]["allowed"] == "a finite number >= 0 (the upper bound depends on the config)"
    assert rows["free"]["allowed"] == f"a finite number in [{-LARGEST_MAGNITUDE:g}, {LARGEST_MAGNITUDE:g}]"
    assert rows["label"]["allowed"] == "" and rows["label"]["reason"] == ""
    assert rows["on"]["allowed"] == "true or false"


def test_sections_nest_and_flatten_through_the_config():
    assert Toy.alias_map() == {
        "n_stations": "size.n_stations",
        "power_kw": "size.power_kw",
        "mode": "rule.mode",
        "only_b": "rule.only_b",
    }
    t = Toy.from_overrides({"size": {"n_stations": 3}, "rule.mode": "b", "share": 0.2})
    assert t == Toy(n_stations=3, mode="b", share=0.2)
    nested = t.to_nested_dict()
    assert nested["size"] == {"n_stations": 3, "power_kw": [3.0, 3.0, 3.0]} and nested["share"] == 0.2
    assert Toy.from_overrides(nested) == t
    assert Toy.from_overrides({"size.n_stations": 3}, n_stations=4).n_stations == 4  # kwargs win
    with pytest.raises(ConfigError, match="'mode' is in section 'rule'"):
        Toy.from_overrides({"size.mode": "b"})


@dataclass(frozen=True)
class EarlyBound(ConfigMixin):
    per_period: float = config_field(1.0, "1", "bounded by period_s", number(0.0, lambda c: c.period_s / 60.0))
    period_s: int = config_field(60, "s", "declared after the bound that reads it", integer(1, 3600))

    def __post_init__(self) -> None:
        self.check_declared()


def test_a_bound_is_computed_after_the_field_it_reads_even_when_declared_before_it():
    assert EarlyBound(per_period=10.0, period_s=600).per_period == 10.0
    with pytest.raises(ConfigError, match=r"period_s=None is invalid: expected an integer in \[1, 3600\]"):
        EarlyBound(period_s=None)
    with pytest.raises(ConfigError, match=r"per_period=11.0 is invalid: expected a finite number in \[0, 10\]"):
        EarlyBound(per_period=11.0, period_s=600)
