import pickle

import numpy as np
import pytest

from evprice.core.snapshot import FrozenDict, freeze, thaw


def test_frozen_values_are_copies_nothing_can_change():
    source = {"a": np.arange(3.0), "b": [1, {"c": np.ones((2, 2))}], "d": None, "e": 2.5}
    frozen = freeze(source)
    source["a"][0] = 99.0
    source["b"][1]["c"][:] = 7.0
    assert frozen["a"][0] == 0.0 and (frozen["b"][1]["c"] == 1.0).all()
    assert isinstance(frozen, FrozenDict) and isinstance(frozen["b"], tuple)
    with pytest.raises(ValueError, match="read-only"):
        frozen["a"][0] = 1.0
    with pytest.raises(TypeError):
        frozen["x"] = 1  # a Mapping has no item assignment
    with pytest.raises(AttributeError, match="cannot be changed"):
        frozen._items = {}


def test_thawed_state_is_fresh_and_writable_each_time():
    frozen = freeze({"a": np.arange(3.0), "n": {"m": np.zeros(2)}})
    one, two = thaw(frozen), thaw(frozen)
    one["a"][0] = 5.0
    one["n"]["m"][1] = 3.0
    assert two["a"][0] == 0.0 and two["n"]["m"][1] == 0.0 and frozen["a"][0] == 0.0
    assert type(one) is dict and type(one["n"]) is dict


def test_frozen_values_pickle_and_keep_the_generator_state_exactly():
    g = np.random.default_rng(11)
    g.standard_normal(5)
    frozen = pickle.loads(pickle.dumps(freeze(g.bit_generator.state)))
    expected = g.standard_normal(4)
    h = np.random.default_rng(0)
    h.bit_generator.state = thaw(frozen)
    assert np.array_equal(h.standard_normal(4), expected)


def test_only_values_can_be_frozen():
    with pytest.raises(TypeError, match="Generator"):
        freeze({"rng": np.random.default_rng(0)})


def test_plain_data_keeps_every_array_exactly():
    from evprice.core.snapshot import from_plain, to_plain

    value = {
        "f": np.array([1.5, np.inf, -np.inf, np.nan, -0.0]),
        "c": np.array([[1 + 2j, np.nan * 1j]]),
        "b": np.array([True, False]),
        "i": np.arange(6, dtype=np.int64).reshape(2, 3),
        "nested": [np.float64(2.5), None, {"s": "text", "n": 2**127}],
    }
    back = from_plain(pickle.loads(pickle.dumps(to_plain(value))))
    for k in ("f", "c", "b", "i"):
        assert back[k].dtype == value[k].dtype and back[k].shape == value[k].shape
        assert back[k].tobytes() == value[k].tobytes() and not back[k].flags.writeable
    assert back["nested"] == (2.5, None, FrozenDict({"s": "text", "n": 2**127}))
