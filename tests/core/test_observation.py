"""The visibility matrix, worked out by hand for a small world with a coordinator."""

import numpy as np
import pytest

from evprice.core.agents import AgentSpec
from evprice.core.features import Feature, Field, Visibility
from evprice.core.observation import ObservationLayout

PUB, OWN, UP, SYS = Visibility.PUBLIC, Visibility.OWNER, Visibility.UPPER_LEVEL, Visibility.SYSTEM


def fld(*names):
    return tuple(Field(n, "1", -1.0, 1.0) for n in names)


def world():
    features = [
        Feature("Clock", fld("sin", "cos"), frozenset({PUB})),
        Feature("GridTruth", fld("v"), frozenset({SYS})),  # nobody's observation
        Feature("Lines", fld("l9"), frozenset({UP, SYS})),  # world-owned, for agents above the stations
        Feature("Status", fld("occ", "price"), frozenset({OWN, UP}), owner="s1"),
        Feature("Secret", fld("z"), frozenset({OWN}), owner="s1"),
        Feature("Status", fld("occ", "price"), frozenset({OWN, UP}), owner="s2"),
        Feature("Secret", fld("z"), frozenset({OWN}), owner="s2"),
        Feature("Board", fld("posted"), frozenset({PUB}), owner="s2"),
        Feature("Plan", fld("target"), frozenset({OWN}), owner="boss"),
    ]
    agents = [
        AgentSpec("s1", 1, ("Status", "Secret"), ("Status", "price"), 900),
        AgentSpec("s2", 1, ("Status", "Secret", "Board"), ("Status", "price"), 900),
        AgentSpec("boss", 2, ("Plan",), ("Plan", "target"), 3600, subordinates=("s1", "s2")),
        AgentSpec("lone", 2, (), None, 3600, subordinates=("s2",)),
    ]
    return ObservationLayout(features, agents)


def test_visibility_matrix():
    layout = world()
    assert layout.observation_names("s1") == (
        ("Clock", "sin"),
        ("Clock", "cos"),  # world public
        ("s1.Status", "occ"),
        ("s1.Status", "price"),
        ("s1.Secret", "z"),  # own
        ("s2.Board", "posted"),  # others' public
    )
    assert layout.observation_names("s2") == (
        ("Clock", "sin"),
        ("Clock", "cos"),
        ("s2.Status", "occ"),
        ("s2.Status", "price"),
        ("s2.Secret", "z"),
        ("s2.Board", "posted"),
    )
    assert layout.observation_names("boss") == (
        ("Clock", "sin"),
        ("Clock", "cos"),
        ("Lines", "l9"),  # world upper_level: any agent above level 1
        ("boss.Plan", "target"),
        ("s1.Status", "occ"),
        ("s1.Status", "price"),  # upper_level of subordinates
        ("s2.Status", "occ"),
        ("s2.Status", "price"),
        ("s2.Board", "posted"),
    )
    # upper_level only reaches the agent's own subordinates
    assert layout.observation_names("lone") == (
        ("Clock", "sin"),
        ("Clock", "cos"),
        ("Lines", "l9"),
        ("s2.Status", "occ"),
        ("s2.Status", "price"),
        ("s2.Board", "posted"),
    )


def test_state_holds_every_field_once_in_declared_order():
    layout = world()
    assert layout.state_size == 2 + 1 + 1 + 2 + 1 + 2 + 1 + 1 + 1
    assert layout.state_names[2] == ("GridTruth", "v")
    assert [k for k, _ in layout.state_names].count("Clock") == 2  # two fields, one instance


def test_index_gathers_the_named_columns():
    layout = world()
    state = np.arange(layout.state_size, dtype=float)[None, :]
    for agent in ("s1", "s2", "boss"):
        idx = layout.observation_index(agent)
        names = [layout.state_names[int(i)] for i in state[0, idx]]
        assert tuple(names) == layout.observation_names(agent)


def test_stacked_index_needs_equal_sizes():
    layout = world()
    with pytest.raises(ValueError, match="different observation sizes"):
        layout.stacked_index(["s1", "boss"])
    assert layout.stacked_index(["s1", "s2"]).shape == (2, 6)


def test_padded_stacked_index_pads_the_shorter_rows_with_zeros():
    layout = world()
    idx = layout.stacked_index(["s1", "boss"], pad=True)
    assert idx.shape == (2, 9)  # boss sees 9 columns, s1 six
    state = 10.0 + np.arange(layout.state_size, dtype=float)[None, :]  # no column is 0
    obs = layout.padded_state(state)[:, idx]  # (1, 2, 9)
    assert obs[0, 0, :6].tolist() == state[0, layout.observation_index("s1")].tolist()
    assert obs[0, 0, 6:].tolist() == [0.0, 0.0, 0.0]
    assert obs[0, 1].tolist() == state[0, layout.observation_index("boss")].tolist()
    assert layout.padded_state(state).shape == (1, layout.state_size + 1)
    # equal sizes: padding changes nothing
    assert (layout.stacked_index(["s1", "s2"], pad=True) == layout.stacked_index(["s1", "s2"])).all()


def test_unknown_agent_and_bad_ownership():
    with pytest.raises(KeyError, match="unknown agent"):
        world().observation_names("nobody")
    f = Feature("Status", fld("a"), frozenset({OWN}), owner="ghost")
    with pytest.raises(ValueError, match="unknown agent 'ghost'"):
        ObservationLayout([f], [AgentSpec("s1", 1, (), None, 60)])
    with pytest.raises(ValueError, match="no feature instance provides"):
        ObservationLayout([], [AgentSpec("s1", 1, ("Status",), None, 60)])
    with pytest.raises(ValueError, match="cannot have subordinate"):
        ObservationLayout([], [AgentSpec("a", 2, (), None, 60, ("b",)), AgentSpec("b", 2, (), None, 60)])


def test_agent_spec_validation():
    with pytest.raises(ValueError, match="level=3"):
        AgentSpec("x", 3, (), None, 60)
    with pytest.raises(ValueError, match="action_period_s"):
        AgentSpec("x", 1, (), None, 0)
    with pytest.raises(ValueError, match="owns only"):
        AgentSpec("x", 1, ("A",), ("B", "price"), 60)
    with pytest.raises(ValueError, match="cannot have subordinates"):
        AgentSpec("x", 1, (), None, 60, subordinates=("y",))
