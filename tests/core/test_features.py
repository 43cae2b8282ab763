import pytest

from evprice.core.features import Feature, Field, Visibility


def test_field_rejects_inverted_or_infinite_bounds():
    with pytest.raises(ValueError, match="bounds"):
        Field("x", "1", 1.0, 0.0)
    with pytest.raises(ValueError, match="bounds"):
        Field("x", "1", 0.0, float("inf"))
    with pytest.raises(ValueError, match="identifier"):
        Field("not a name", "1", 0.0, 1.0)


def test_feature_validation():
    f = Field("a", "1", 0, 1)
    with pytest.raises(ValueError, match="duplicate"):
        Feature("F", (f, f), frozenset({Visibility.PUBLIC}))
    with pytest.raises(ValueError, match="no fields"):
        Feature("F", (), frozenset({Visibility.PUBLIC}))
    with pytest.raises(ValueError, match="empty visibility"):
        Feature("F", (f,), frozenset())
    with pytest.raises(ValueError, match="owned by the world"):
        Feature("F", (f,), frozenset({Visibility.OWNER}))


def test_feature_key_and_lookup():
    world = Feature("Signal", (Field("a", "1", 0, 1), Field("b", "kW", 0, 5)), frozenset({"public"}))
    owned = Feature("Status", (Field("a", "1", 0, 1),), frozenset({"owner"}), owner="station_1")
    assert world.key == "Signal"
    assert owned.key == "station_1.Status"
    assert world.field_names == ("a", "b")
    assert world.field("b").unit == "kW"
    assert world.visibility == frozenset({Visibility.PUBLIC})
    with pytest.raises(KeyError, match="no field 'c'"):
        world.field("c")
