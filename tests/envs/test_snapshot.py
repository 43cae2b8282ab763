"""``env.snapshot()`` / ``env.restore()``: after a restore the trajectory repeats bit for bit."""

import pickle

import numpy as np
import pytest

import evprice
from evprice.envs import make_env, registered_ids


def same(x, y) -> bool:
    """Equal to the last bit, recursively through info dicts (NaN equal to NaN)."""
    if isinstance(x, dict):
        return isinstance(y, dict) and x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
    if isinstance(x, (list, tuple)):
        return isinstance(y, (list, tuple)) and len(x) == len(y) and all(same(a, b) for a, b in zip(x, y))
    return np.array_equal(np.asarray(x), np.asarray(y), equal_nan=np.asarray(x).dtype.kind in "fc")


def run(env, actions):
    """Step through ``actions`` (T, B, N, 1), starting a new episode (streams continued) at each end."""
    out = []
    for a in actions:
        if env.world.done:
            out.append(("reset", env.reset()))
        out.append(env.step(a))
    return out


def trajectories_equal(one, two) -> bool:
    return len(one) == len(two) and all(same(list(p), list(q)) for p, q in zip(one, two))


CASES = [(env_id, {}) for env_id in registered_ids()] + [
    ("PublicCharging-v0", dict(n_stations=3, leader="station_2", reward="individual")),
    ("PublicCharging-v0", dict(when_full="queue", waiting_spaces=2)),
    ("GridCharging-v0", dict(powerflow_every="substep")),
]


@pytest.mark.parametrize("env_id, overrides", CASES)
def test_a_restored_environment_repeats_its_trajectory_bit_for_bit(env_id, overrides):
    env = make_env(env_id, 2, **overrides)
    env.reset(seed=7)
    rng = np.random.default_rng(7)
    half = env.n_periods // 2
    actions = rng.uniform(-1, 1, (half + env.n_periods, 2, env.n_agents, 1))  # runs into a second episode
    run(env, actions[:half])
    snap = env.snapshot()
    assert snap.period == half == env.period
    first = run(env, actions[half:])
    env.restore(snap)
    assert env.period == half
    assert trajectories_equal(first, run(env, actions[half:]))
    other = make_env(env_id, 2, **overrides)  # another instance, never reset, from a pickled snapshot
    other.restore(pickle.loads(pickle.dumps(snap)))
    assert trajectories_equal(first, run(other, actions[half:]))


def test_common_random_numbers_survive_a_restore():
    env = make_env("PublicCharging-v0", 1).replicate(4, scenarios=2)
    env.reset(seed=1)
    env.step(np.zeros((4, 2, 1)))
    snap = env.snapshot()
    a = np.random.default_rng(1).uniform(-1, 1, (10, 4, 2, 1))
    first = run(env, a)
    env.restore(snap)
    assert trajectories_equal(first, run(env, a))
    with pytest.raises(ValueError, match="scenarios"):
        make_env("PublicCharging-v0", 4).world.restore(snap.world)


def test_a_snapshot_is_a_value_stepping_never_changes_it():
    env = make_env("GridCharging-v0", 2)
    env.reset(seed=3)
    env.step(np.zeros((2, env.n_agents, 1)))
    snap = env.snapshot()
    depart = snap.world.state.slot_depart_s.copy()
    grid = snap.parts["couplings"]["grid"]
    load = grid["load_factor"].copy()
    for _ in range(5):
        env.step(np.ones((2, env.n_agents, 1)))
    assert np.array_equal(snap.world.state.slot_depart_s, depart) and np.array_equal(grid["load_factor"], load)
    with pytest.raises(ValueError, match="read-only"):
        snap.world.state.slot_depart_s[0, 0, 0] = 1.0
    env.restore(snap)
    restored = env.world.state.slot_depart_s
    assert restored.flags.writeable and not np.shares_memory(restored, snap.world.state.slot_depart_s)
    env.restore(snap)
    assert not np.shares_memory(restored, env.world.state.slot_depart_s)  # each restore is its own copy


def test_restoring_into_another_environment_is_refused_with_the_reason():
    env = make_env("PublicCharging-v0", 2)
    env.reset(seed=0)
    snap = env.snapshot()
    with pytest.raises(ValueError, match="num_envs=2"):
        make_env("PublicCharging-v0", 3).restore(snap)
    with pytest.raises(ValueError, match="LogitBertrand-v0"):
        make_env("LogitBertrand-v0", 2).restore(snap)
    with pytest.raises(ValueError, match="another config"):
        make_env("PublicCharging-v0", 2, price_max=2.5).restore(snap)
    with pytest.raises(TypeError, match="EnvSnapshot"):
        env.restore(snap.world)
    with pytest.raises(RuntimeError, match="reset"):
        make_env("PublicCharging-v0", 2).snapshot()


def test_the_views_restore_their_own_flags():
    pz = evprice.make()
    pz.reset(seed=2)
    actions = {a: np.zeros(1, dtype=np.float32) for a in pz.possible_agents}
    start = pz.snapshot()
    while pz.agents:
        pz.step(actions)
    end = pz.snapshot()
    pz.restore(start)
    assert pz.agents == pz.possible_agents
    pz.restore(end)
    assert pz.agents == []
    gym = evprice.make_gym()
    gym.reset(seed=2)
    snap = gym.snapshot()
    first = gym.step(gym.action_space.high)
    gym.restore(snap)
    assert same(list(first[:2]), list(gym.step(gym.action_space.high)[:2]))
    vec = evprice.make_vec("PublicCharging-v0", 2)
    vec.reset(seed=2)
    snap = vec.snapshot()
    first = vec.step(np.zeros((2, 2, 1)))
    fresh = evprice.make_vec("PublicCharging-v0", 2)
    fresh.restore(snap)  # no reset needed: the snapshot is the state
    assert same(list(first[:2]), list(fresh.step(np.zeros((2, 2, 1)))[:2]))


def test_a_frame_after_a_restore_is_the_frame_at_the_snapshot():
    env = make_env("GridCharging-v0", 1)
    env.reset(seed=4)
    env.step(np.zeros((1, env.n_agents, 1)))
    snap, frame = env.snapshot(), env.frame_data()
    env.step(np.ones((1, env.n_agents, 1)))
    env.restore(snap)
    again = env.frame_data()
    assert same(frame.profit, again.profit) and same(frame.bus_vm_pu, again.bus_vm_pu) and frame.period == again.period
