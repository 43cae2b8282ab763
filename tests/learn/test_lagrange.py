"""The Lagrangian pieces: multipliers on a two-armed problem, the cost GAE by hand, the costs."""

import numpy as np
import pytest
import torch

from evprice.learn.lagrange import (
    Multipliers,
    center_per_seed,
    constraint_costs,
    cost_gae,
    lagrangian_advantages,
)


def _two_armed(rule: str, limit: float, steps: int, lam0: float = 0.0, kp: float = 0.0, kd: float = 0.0):
    """Exact policy gradient on two arms: arm 0 pays reward 1 at cost 1, arm 1 pays 0 at cost 0.

    The policy picks arm 0 with probability p = sigmoid(theta); its expected reward and cost
    are both p. With limit d < 1 the constrained optimum is p = d, where the reward's gradient
    (1) equals lambda times the cost's (1): lambda* = 1. Returns (steps, 2): p and lambda."""
    theta = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=0.5)
    multipliers = Multipliers([limit], seeds=1, rule=rule, lr=0.2, kp=kp, kd=kd, init=lam0)
    reward = cost = torch.tensor([1.0, 0.0])
    out = []
    for _ in range(steps):
        p = torch.sigmoid(theta)
        pi = torch.cat([p, 1.0 - p])
        measured = float((pi * cost).sum().detach())  # the exact expected episode cost
        multipliers.update(np.array([[measured]]))
        lam = torch.as_tensor(multipliers.value, dtype=torch.float32)
        adv_r = (reward - (pi * reward).sum()).detach()
        adv_c = (cost - (pi * cost).sum()).detach()
        adv = lagrangian_advantages(adv_r[None], adv_c[None, :, None], lam)[0]
        opt.zero_grad()
        (-(pi * adv).sum()).backward()
        opt.step()
        out.append((measured, float(multipliers.value[0, 0])))
    return np.array(out)


def test_multiplier_rises_while_the_cost_exceeds_the_limit():
    path = _two_armed("plain", 0.3, 400)
    over = np.argmax(path[:, 0] <= 0.3)  # the first step within the limit
    assert over > 3 and path[0, 0] == 0.5
    lam = path[:over, 1]
    assert lam[0] == pytest.approx(0.2 * (0.5 - 0.3))  # one step of lr x excess from 0
    assert np.all(np.diff(lam) > 0)  # up at every step while over the limit
    # plain dual ascent does not settle on this problem: it circles the optimum (p 0.11 to 0.64)
    tail = path[-200:, 0]
    assert tail.min() < 0.2 and tail.max() > 0.5


def test_multiplier_falls_to_zero_when_the_limit_is_loose():
    path = _two_armed("plain", 1.5, 400, lam0=2.0)  # no policy can cost more than 1
    assert path[0, 1] == pytest.approx(2.0 + 0.2 * (0.5 - 1.5))
    first_zero = int(np.argmax(path[:, 1] == 0.0))
    assert first_zero > 0
    assert np.all(np.diff(path[:first_zero, 1]) < 0)
    assert np.all(path[first_zero:, 1] == 0.0)  # projected on >= 0: exactly 0, never below
    assert path[-1, 0] > 0.99  # the unconstrained optimum, arm 0 always


def test_pid_multiplier_settles_on_the_constrained_optimum():
    path = _two_armed("pid", 0.3, 1600, kp=1.0, kd=1.0)
    p, lam = path[-1]
    assert p == pytest.approx(0.3, abs=2e-3)
    assert lam == pytest.approx(1.0, abs=2e-2)  # lambda* = 1 (the docstring of _two_armed)
    over = np.argmax(path[:, 0] <= 0.3)
    plain = _two_armed("plain", 0.3, 1600)
    plain_over = np.argmax(plain[:, 0] <= 0.3)
    # it overshoots the limit less once it has come within it than plain dual ascent does
    assert path[over:, 0].max() - 0.3 < 0.5 * (plain[plain_over:, 0].max() - 0.3)


def test_multiplier_rules_by_hand():
    m = Multipliers([1.0, 2.0], seeds=2, rule="pid", lr=0.5, kp=2.0, kd=3.0, init=0.1)
    # seed 0: costs (3, 1) -> excess (2, -1); integral max(0, 0.1 + 0.5 e) = (1.1, 0); no rise yet
    # seed 1: not measured, keeps its initial values
    value = m.update(np.array([[3.0, 1.0], [9.0, 9.0]]), measured=np.array([True, False]))
    np.testing.assert_allclose(value[0], [max(0, 2 * 2 + 1.1), max(0, 2 * -1 + 0.0)])
    np.testing.assert_allclose(value[1], [0.1, 0.1])
    # seed 0 again: costs (4, 0.5) -> excess (3, -1.5); integral (2.6, 0); rise (1, 0)
    value = m.update(np.array([[4.0, 0.5], [2.0, 2.0]]))
    np.testing.assert_allclose(value[0], [2 * 3 + 2.6 + 3 * 1, 0.0])
    # seed 1's first measurement: costs (2, 2) -> excess (1, 0); integral (0.6, 0.1); no rise yet
    np.testing.assert_allclose(value[1], [2 * 1 + 0.6, 0.1])
    plain = Multipliers([1.0], seeds=1, rule="plain", lr=0.5, kp=9.0, kd=9.0)  # gains ignored
    assert plain.update(np.array([[3.0]]))[0, 0] == pytest.approx(1.0)
    assert plain.update(np.array([[0.0]]))[0, 0] == pytest.approx(0.5)
    assert plain.update(np.array([[0.0]]))[0, 0] == 0.0
    with pytest.raises(ValueError, match="'plain' or 'pid'"):
        Multipliers([1.0], seeds=1, rule="adam")


def test_multiplier_state_round_trip():
    m = Multipliers([1.0], seeds=2, rule="pid", kp=1.0, kd=1.0)
    m.update(np.array([[2.0], [0.5]]))
    other = Multipliers([1.0], seeds=2, rule="pid", kp=1.0, kd=1.0)
    for k in range(2):
        other.load_seed_state(k, m.seed_state(k))
    costs = np.array([[3.0], [0.0]])
    np.testing.assert_array_equal(m.update(costs), other.update(costs))
    fresh = Multipliers([1.0], seeds=1)
    assert fresh.seed_state(0)["last_cost"] == [None]
    with pytest.raises(ValueError, match="2 constraints; this run has 1"):
        fresh.load_seed_state(0, {"integral": [0, 0], "value": [0, 0], "last_cost": [None, None]})


def test_cost_gae_by_hand():
    gamma, lam = 0.9, 0.5
    # one seed, one member, two stations, one constraint; three periods, the episode ends after the second
    costs = torch.tensor([1.0, 0.0, 1.0]).reshape(1, 3, 1, 1)
    values = torch.tensor([[0.5, 0.2], [0.3, 0.1], [0.4, 0.6]]).reshape(1, 3, 1, 2, 1)
    dones = torch.tensor([0.0, 1.0, 0.0]).reshape(1, 3, 1, 1)
    last = torch.tensor([0.7, 0.9]).reshape(1, 1, 2, 1)
    adv, ret = cost_gae(costs, values, dones, last, gamma, lam)
    for i, (v0, v1, v2, v3) in enumerate(((0.5, 0.3, 0.4, 0.7), (0.2, 0.1, 0.6, 0.9))):
        d2 = 1.0 + gamma * v3 - v2  # the third period bootstraps from the last value
        d1 = 0.0 + 0.0 - v1  # the episode ends: no bootstrap
        d0 = 1.0 + gamma * v1 - v0
        a2, a1 = d2, d1
        a0 = d0 + gamma * lam * a1
        np.testing.assert_allclose(adv[0, :, 0, i, 0].numpy(), [a0, a1, a2], rtol=1e-6)
        np.testing.assert_allclose(ret[0, :, 0, i, 0].numpy(), [a0 + v0, a1 + v1, a2 + v2], rtol=1e-6)
    assert adv.shape == ret.shape == (1, 3, 1, 2, 1)


def test_lagrangian_advantages_and_centring_by_hand():
    reward = torch.tensor([[1.0, -1.0]])  # (K=1, 2 samples)
    cost = torch.tensor([[[2.0, 0.0], [0.0, 4.0]]])  # (1, 2, C=2)
    lam = torch.tensor([[0.5, 0.25]])
    out = lagrangian_advantages(reward, cost, lam)
    np.testing.assert_allclose(out[0].numpy(), [(1 - 0.5 * 2) / 1.75, (-1 - 0.25 * 4) / 1.75])
    np.testing.assert_allclose(lagrangian_advantages(reward, cost, torch.zeros(1, 2)).numpy(), reward.numpy())
    centred = center_per_seed(torch.tensor([[[1.0], [3.0]], [[10.0], [10.0]]]))  # two seeds apart
    np.testing.assert_allclose(centred.squeeze(-1).numpy(), [[-1.0, 1.0], [0.0, 0.0]])


def test_constraint_costs_read_each_term():
    info = {
        "cost": np.array([[1.0, 1.0], [0.0, 0.0]]),
        "grid": {
            "cost_voltage": np.array([0.02, 0.0]),
            "cost_line": np.array([0.0, 0.0]),
            "cost_carbon": np.array([3.0, 0.5]),
        },
    }
    np.testing.assert_array_equal(
        constraint_costs(info, ["total", "voltage", "carbon"], indicator=True), [[1, 1, 1], [0, 0, 1]]
    )
    np.testing.assert_array_equal(
        constraint_costs(info, ["voltage", "carbon"], indicator=False), [[0.02, 3.0], [0, 0.5]]
    )
    with pytest.raises(KeyError, match="needs a grid coupling"):
        constraint_costs({"cost": np.zeros((1, 1))}, ["line"], indicator=False)
