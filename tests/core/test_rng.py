import numpy as np
import pytest

from evprice.core.rng import spawn_streams


def test_same_seed_same_streams_and_named_streams_differ():
    a = spawn_streams(7, ["x", "y"])
    b = spawn_streams(7, ["x", "y"])
    assert np.array_equal(a["x"].random(5), b["x"].random(5))
    c = spawn_streams(7, ["x", "y"])
    assert not np.array_equal(c["x"].random(5), c["y"].random(5))


def test_streams_are_keyed_by_name_not_position():
    a = spawn_streams(7, ["arrivals", "choice"])
    b = spawn_streams(7, ["new_stream", "choice", "arrivals"])
    assert np.array_equal(a["choice"].random(5), b["choice"].random(5))
    assert np.array_equal(a["arrivals"].random(5), b["arrivals"].random(5))


def test_bad_seeds():
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ValueError, match="seed"):
            spawn_streams(bad, ["x"])
    with pytest.raises(ValueError, match="unique"):
        spawn_streams(0, ["x", "x"])
