"""Constrained CEM planner: exact analytic models with known optima, the pure pieces by hand."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import truncnorm

from evprice.core.config import ConfigError
from evprice.core.declared import describe_fields
from evprice.learn.ccem import (
    CCEMConfig,
    ConstrainedCEM,
    rollout,
    sample_truncated_normal,
    select_elites,
    shift_sequence,
    smoothed_update,
)

A_STAR = 0.6  # constraint boundary of the 1-D problem
SMALL = dict(horizon=3, population=200, n_elites=20, iterations=8, particles=2)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def boundary_model(obs, act, member, generator):
    """Reward = a; cost = 5 * relu(a - A_STAR) per step; no uncertainty. Optimum under a zero cost limit: a = A_STAR."""
    a = act[:, 0]
    return obs, a, 5.0 * torch.relu(a - A_STAR), torch.zeros_like(a)


def infeasible_model(obs, act, member, generator):
    """Reward = a (pushes to the upper bound); cost = 1 + (a - 0.3)^2 > 0 everywhere: nothing is feasible."""
    a = act[:, 0]
    return obs, a, 1.0 + (a - 0.3) ** 2, torch.zeros_like(a)


def uncertain_model(obs, act, member, generator):
    """Reward = a on [-1, 1]; no cost; uncertainty |a| (far from data at both ends)."""
    a = act[:, 0]
    return obs, a, torch.zeros_like(a), a.abs()


def plan_once(model, *, low=0.0, high=1.0, seed=0, **overrides):
    cfg = CCEMConfig(**{**SMALL, **overrides})
    planner = ConstrainedCEM(cfg, [low], [high])
    action = planner.plan(torch.zeros(1), model, torch.arange(3), gen(seed))
    return planner, float(action[0])


# ---------------------------------------------------------------------------- the planner on known problems


def test_constrained_planner_approaches_the_boundary_from_below():
    planner, a = plan_once(boundary_model, cost_limit=0.0)
    assert A_STAR - 0.05 <= a <= A_STAR
    info = planner.last_info
    assert info.n_feasible >= 20 and not info.used_fallback
    assert info.predicted_cost == 0.0  # the mean sequence stays feasible
    assert info.predicted_reward == pytest.approx(float(info.mean_sequence.sum()), rel=1e-6)


def test_unconstrained_planner_picks_the_upper_bound():
    planner, a = plan_once(boundary_model, cost_limit=0.0, constrained=False)
    assert a >= 0.95
    assert planner.last_info.n_feasible == 200  # every sequence counts as feasible


def test_fallback_minimises_the_cost_when_nothing_is_feasible():
    planner, a = plan_once(infeasible_model, cost_limit=0.0)
    assert planner.last_info.n_feasible_per_iteration == (0,) * 8
    assert planner.last_info.used_fallback
    assert a == pytest.approx(0.3, abs=0.05)  # argmin of the cost, not the reward's upper bound


def test_uncertainty_penalty_steers_away_from_uncertain_actions():
    # feasible iff kappa * max_t |a_t| <= 0.5: with kappa = 1 the best is a = 0.5; with kappa = 0 it is 1
    _, a_penalised = plan_once(uncertain_model, low=-1.0, cost_limit=0.5, kappa_init=1.0)
    _, a_free = plan_once(uncertain_model, low=-1.0, cost_limit=0.5, kappa_init=0.0)
    assert 0.4 <= a_penalised <= 0.5
    assert a_free >= 0.95


def test_rollout_aggregation_by_hand():
    # two particles per sequence with members 0 and 1 (the only candidates): member m adds m to reward and
    # uncertainty. Step rewards a_t + m, costs 2 * a_t, uncertainty (t + 1) * (1 + m); gamma 0.5.
    def model(obs, act, member, generator):
        t = obs[:, 0]
        m = member.to(act.dtype)
        return obs + 1.0, act[:, 0] + m, 2.0 * act[:, 0], (t + 1.0) * (1.0 + m)

    actions = torch.tensor([[[1.0], [3.0]]])  # (N=1, H=2, A=1)
    members = torch.tensor([0, 1])
    # each particle's member is random; with many particles the member mean -> 0.5. Use 1 member to be exact.
    ret, cost, unc = rollout(torch.zeros(1), actions, model, members[:1], particles=4, gamma=0.5, generator=gen())
    assert ret.tolist() == pytest.approx([1.0 + 0.5 * 3.0])
    assert cost.tolist() == pytest.approx([2.0 + 0.5 * 6.0])
    assert unc.tolist() == pytest.approx([2.0])  # max over steps of (t + 1), not discounted, not summed
    ret2, _, unc2 = rollout(torch.zeros(1), actions, model, members[1:], particles=4, gamma=0.5, generator=gen())
    assert ret2.tolist() == pytest.approx([(1.0 + 1.0) + 0.5 * (3.0 + 1.0)])
    assert unc2.tolist() == pytest.approx([4.0])


def test_robust_cost_estimate_is_the_worst_particle():
    """Each particle's cost is its member's index (0 or 1) at every step of two: the mean
    over many particles is near 1, the worst particle's is 2 (a member-1 particle)."""

    def model(obs, act, member, generator):
        m = member.to(act.dtype)
        return obs, torch.zeros_like(m), m, torch.zeros_like(m)

    actions = torch.zeros(3, 2, 1)
    members = torch.tensor([0, 1])
    _, mean_cost, _ = rollout(torch.zeros(1), actions, model, members, particles=64, gamma=1.0, generator=gen())
    _, worst, _ = rollout(
        torch.zeros(1), actions, model, members, particles=64, gamma=1.0, generator=gen(), cost_estimate="max"
    )
    assert worst.tolist() == [2.0, 2.0, 2.0]
    assert all(0.6 < c < 1.4 for c in mean_cost.tolist())


def test_particles_draw_members_only_from_the_candidates():
    seen = set()

    def model(obs, act, member, generator):
        seen.update(member.tolist())
        z = torch.zeros(act.shape[0])
        return obs, z, z, z

    rollout(
        torch.zeros(2), torch.zeros(10, 2, 1), model, torch.tensor([2, 4]), particles=20, gamma=1.0, generator=gen()
    )
    assert seen == {2, 4}


# ---------------------------------------------------------------------------- pure pieces


def test_select_elites_feasible_best_rewards_then_fallback_lowest_costs():
    reward = torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0])
    aug = torch.tensor([10.0, 0.0, 1.0, 0.2, 9.0])  # limit 1: indices 1, 2 (on the limit), 3 are feasible
    cost = torch.tensor([0.5, 0.0, 0.9, 0.1, 0.2])  # the predicted cost alone (no uncertainty penalty)
    idx, n_feasible, fallback = select_elites(reward, cost, aug, 1.0, 2, constrained=True)
    assert sorted(idx.tolist()) == [1, 2] and n_feasible == 3 and not fallback
    idx, n_feasible, fallback = select_elites(reward, cost, aug, 1.0, 4, constrained=True)
    assert sorted(idx.tolist()) == [0, 1, 3, 4] and n_feasible == 3 and fallback  # four lowest costs, not aug
    idx, n_feasible, fallback = select_elites(reward, cost, aug, 1.0, 2, constrained=False)
    assert sorted(idx.tolist()) == [0, 1] and n_feasible == 5 and not fallback


def test_fallback_ignores_the_uncertainty_penalty():
    """Nothing is feasible (cost 1 + (a - 0.8)^2 everywhere); the uncertainty |a| is lowest at 0.
    However large kappa, the fallback goes to the least costly action, 0.8, not the least uncertain."""

    def model(obs, act, member, generator):
        a = act[:, 0]
        return obs, a, 1.0 + (a - 0.8) ** 2, a.abs()

    planner, a = plan_once(model, cost_limit=0.0, kappa_init=100.0)
    assert planner.last_info.used_fallback
    assert a == pytest.approx(0.8, abs=0.05)


def test_smoothed_update_by_hand():
    mean, std = torch.zeros(1, 1), torch.ones(1, 1)
    elites = torch.tensor([[[1.0]], [[3.0]]])  # elite mean 2, population variance 1
    m, s = smoothed_update(mean, std, elites, 0.1, torch.tensor([0.0]))
    assert m.item() == pytest.approx(0.1 * 0 + 0.9 * 2)
    assert s.item() == pytest.approx(math.sqrt(0.1 * 1 + 0.9 * 1))
    m, s = smoothed_update(mean, std, torch.full((2, 1, 1), 2.0), 0.1, torch.tensor([0.0]))
    assert s.item() == pytest.approx(math.sqrt(0.1))
    _, s = smoothed_update(mean, std, torch.full((2, 1, 1), 2.0), 0.0, torch.tensor([0.05]))
    assert s.item() == pytest.approx(0.05)  # floored at min_std


def test_truncated_normal_inside_bounds_not_piled_and_with_the_right_mean():
    n = 200_000
    mean, std, low, high = 0.9, 0.5, 0.0, 1.0
    x = sample_truncated_normal(
        torch.tensor([mean]), torch.tensor([std]), torch.tensor([low]), torch.tensor([high]), n, gen(3)
    )
    assert x.shape == (n, 1) and x.dtype == torch.float32
    x = x[:, 0].double().numpy()
    assert x.min() >= low and x.max() <= high
    assert np.mean((x == low) | (x == high)) < 1e-4  # plain clipping would put ~42% at the upper bound
    a, b = (low - mean) / std, (high - mean) / std
    dist = truncnorm(a, b, loc=mean, scale=std)
    assert abs(x.mean() - dist.mean()) < 4 * dist.std() / math.sqrt(n)
    # the top 1% of the range holds what the truncated density says (~1.2%), not a pile
    top = np.mean(x >= 0.99)
    assert top == pytest.approx(dist.sf(0.99), abs=0.002)


def test_shift_sequence_repeats_the_last_step():
    seq = torch.tensor([[1.0], [2.0], [3.0]])
    assert shift_sequence(seq).tolist() == [[2.0], [3.0], [3.0]]


# ---------------------------------------------------------------------------- kappa


def test_kappa_projected_dual_ascent():
    planner = ConstrainedCEM(CCEMConfig(kappa_init=0.0, kappa_lr=0.1), [0.0], [1.0])
    assert planner.update_kappa(5.0, 2.0) == pytest.approx(0.3)  # over the limit: rises
    assert planner.update_kappa(0.0, 2.0) == pytest.approx(0.1)  # under: falls
    assert planner.update_kappa(0.0, 2.0) == 0.0  # projected: 0.1 - 0.2 -> 0, not -0.1
    assert planner.update_kappa(0.0, 2.0) == 0.0
    assert planner.kappa == 0.0


def test_kappa_fixed_when_not_learned_and_rejects_nan():
    planner = ConstrainedCEM(CCEMConfig(kappa_init=0.5, learn_kappa=False), [0.0], [1.0])
    assert planner.update_kappa(100.0, 0.0) == 0.5
    with pytest.raises(ConfigError, match="episode_cost"):
        planner.update_kappa(float("nan"), 0.0)


# ---------------------------------------------------------------------------- warm start, state, determinism


def test_warm_start_shift_and_reset():
    planner, _ = plan_once(boundary_model, cost_limit=0.0)
    final = planner.last_info.mean_sequence
    assert torch.equal(planner.warm_mean, shift_sequence(final))
    planner.reset()
    assert planner.warm_mean is None and planner.last_info is None


def test_warm_start_is_used_by_the_next_plan():
    # alpha 0.99 and one iteration: the action stays within 1% of the range of the starting mean
    cfg = CCEMConfig(**{**SMALL, "iterations": 1, "smoothing_alpha": 0.99})
    planner = ConstrainedCEM(cfg, [0.0], [1.0])
    planner.load_state_dict({"kappa": 0.0, "warm_mean": torch.full((3, 1), 0.9)})
    assert float(planner.plan(torch.zeros(1), boundary_model, [0], gen())[0]) == pytest.approx(0.9, abs=0.01)
    planner.reset()
    assert float(planner.plan(torch.zeros(1), boundary_model, [0], gen())[0]) == pytest.approx(0.5, abs=0.01)


def test_state_dict_round_trip_reproduces_the_plan():
    p1, _ = plan_once(boundary_model, cost_limit=0.0)
    p1.update_kappa(3.0, 1.0)
    p2 = ConstrainedCEM(p1.config, [0.0], [1.0])
    p2.load_state_dict(p1.state_dict())
    assert p2.kappa == p1.kappa and torch.equal(p2.warm_mean, p1.warm_mean)
    a1 = p1.plan(torch.zeros(1), boundary_model, torch.arange(3), gen(7))
    a2 = p2.plan(torch.zeros(1), boundary_model, torch.arange(3), gen(7))
    assert torch.equal(a1, a2)
    with pytest.raises(ValueError, match="warm_mean"):
        p2.load_state_dict({"kappa": 0.0, "warm_mean": torch.zeros(2, 1)})
    with pytest.raises(ConfigError, match="kappa"):
        p2.load_state_dict({"kappa": -1.0, "warm_mean": None})


def test_determinism_with_a_generator():
    def noisy(obs, act, member, generator):
        a = act[:, 0]
        noise = 0.1 * torch.randn(a.shape, generator=generator)
        return obs, a + noise, torch.relu(a - A_STAR), member.to(a.dtype) * 0.01

    runs = [plan_once(noisy, seed=s, cost_limit=0.0, kappa_init=1.0) for s in (11, 11, 12)]
    assert runs[0][1] == runs[1][1]
    assert torch.equal(runs[0][0].last_info.mean_sequence, runs[1][0].last_info.mean_sequence)
    assert runs[0][1] != runs[2][1]


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "field, value",
    [
        ("horizon", 0),
        ("population", 0),
        ("n_elites", 401),
        ("iterations", 0),
        ("smoothing_alpha", 1.0),
        ("init_std_fraction", 0.0),
        ("min_std_fraction", 0.5),
        ("particles", 2.5),
        ("constrained", "yes"),
        ("cost_limit", float("inf")),
        ("kappa_init", -0.1),
        ("kappa_lr", -1.0),
        ("gamma", 0.0),
        ("cost_estimate", "worst"),
    ],
)
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        CCEMConfig(**{field: value})


def test_n_elites_is_bounded_by_the_population_and_every_field_is_declared():
    assert CCEMConfig(population=10, n_elites=10.0).n_elites == 10
    with pytest.raises(ConfigError, match=r"^n_elites=11 is invalid: expected an integer in \[1, 10\]"):
        CCEMConfig(population=10, n_elites=11)
    with pytest.raises(ConfigError, match=r"^min_std_fraction=0.3 is invalid: .* init_std_fraction = 0.25\]"):
        CCEMConfig(min_std_fraction=0.3)
    rows = {r["name"]: r for r in describe_fields(CCEMConfig)}
    assert all(r["allowed"] for r in rows.values())
    assert rows["n_elites"]["allowed"] == "an integer >= 1 (the upper bound depends on the config)"


def test_bad_bounds_inputs_and_model_outputs_raise_clearly():
    with pytest.raises(ValueError, match="action_low"):
        ConstrainedCEM(CCEMConfig(), [1.0], [0.0])
    planner = ConstrainedCEM(CCEMConfig(**SMALL), [0.0], [1.0])
    with pytest.raises(ValueError, match="obs"):
        planner.plan(torch.zeros(1, 1), boundary_model, [0], gen())
    with pytest.raises(ValueError, match="members"):
        planner.plan(torch.zeros(1), boundary_model, [], gen())

    def bad_model(obs, act, member, generator):
        return obs, act, act[:, 0], act[:, 0]  # reward (P, 1) instead of (P,)

    with pytest.raises(ValueError, match="reward"):
        planner.plan(torch.zeros(1), bad_model, [0], gen())


# ---------------------------------------------------------------------------- iCEM's search aids


def test_correlated_samples_keep_the_truncated_marginals_and_correlate_neighbouring_steps():
    n, rho, horizon = 100_000, 0.8, 4
    mean, std, low, high = 0.3, 0.4, 0.0, 1.0
    x = (
        sample_truncated_normal(
            torch.full((horizon, 1), mean),
            torch.full((horizon, 1), std),
            torch.tensor([low]),
            torch.tensor([high]),
            n,
            gen(5),
            correlation=rho,
        )[..., 0]
        .double()
        .numpy()
    )  # (n, H)
    assert x.min() >= low and x.max() <= high
    a, b = (low - mean) / std, (high - mean) / std
    dist = truncnorm(a, b, loc=mean, scale=std)
    for t in range(horizon):  # every step keeps the truncated-normal marginal
        assert abs(x[:, t].mean() - dist.mean()) < 5 * dist.std() / math.sqrt(n)
    # back to the normal scores with scipy's own CDFs: their correlation is rho^lag (AR(1))
    from scipy.stats import norm

    z = norm.ppf(np.clip(dist.cdf(x), 1e-12, 1 - 1e-12))
    for lag in (1, 2, 3):
        r = np.mean([np.corrcoef(z[:, t], z[:, t + lag])[0, 1] for t in range(horizon - lag)])
        assert r == pytest.approx(rho**lag, abs=0.01)
    with pytest.raises(ValueError, match="correlation"):
        sample_truncated_normal(torch.zeros(2, 1), torch.ones(2, 1), torch.zeros(1), torch.ones(1), 3, gen(), 1.0)


def test_zero_correlation_is_the_independent_sampler_draw_for_draw():
    args = (torch.full((3, 2), 0.5), torch.full((3, 2), 0.2), torch.zeros(2), torch.ones(2), 50)
    assert torch.equal(sample_truncated_normal(*args, gen(2)), sample_truncated_normal(*args, gen(2), correlation=0.0))


def test_kept_elites_are_the_best_sequences_shifted_and_survive_a_state_round_trip():
    planner, _ = plan_once(boundary_model, cost_limit=0.0, keep_elites=0.5)
    kept = planner.state_dict()["warm_elites"]
    assert kept.shape == (10, 3, 1)  # half of the 20 elites, (H, A) = (3, 1)
    assert torch.equal(kept[:, 1], kept[:, 2])  # shifted: the last step repeated
    # the best elites of the last iteration, shifted: feasible (a <= A_STAR) and close to the boundary
    assert float(kept.max()) <= A_STAR and float(kept[:, 0].min()) >= A_STAR - 0.1
    twin = ConstrainedCEM(planner.config, [0.0], [1.0])
    twin.load_state_dict(planner.state_dict())
    a1 = planner.plan(torch.zeros(1), boundary_model, torch.arange(3), gen(7))
    a2 = twin.plan(torch.zeros(1), boundary_model, torch.arange(3), gen(7))
    assert torch.equal(a1, a2)  # the kept elites are part of the state
    planner.reset()
    assert planner.state_dict()["warm_elites"] is None
    with pytest.raises(ValueError, match="warm_elites"):
        twin.load_state_dict({"kappa": 0.0, "warm_mean": None, "warm_elites": torch.zeros(4, 2, 1)})
    twin.load_state_dict({"kappa": 0.0, "warm_mean": None})  # a state saved before they existed
    assert twin.state_dict()["warm_elites"] is None


def test_kept_elites_and_correlated_noise_find_a_corner_that_plain_cem_misses():
    # 8 steps x 3 prices: the cost falls only when every price of every step is high; reward is flat.
    # Plain CEM's per-step noise averages the signal away; the two aids reach the corner region.
    def corner_model(obs, act, member, generator):
        return obs, torch.zeros(act.shape[0]), (1.0 - act).clamp(min=0).mean(dim=1), torch.zeros(act.shape[0])

    def plan(**aids):
        cfg = CCEMConfig(horizon=8, population=100, n_elites=10, iterations=3, particles=1, cost_limit=-1.0, **aids)
        planner = ConstrainedCEM(cfg, [0.0] * 3, [1.0] * 3)
        for _ in range(4):  # four decisions, each warm-started from the last
            planner.plan(torch.zeros(1), corner_model, torch.arange(1), gen(11))
        return float(planner.last_info.predicted_cost)

    plain, aided = plan(), plan(keep_elites=0.5, noise_correlation=0.9)
    assert plain > 1.0 and aided < 0.25 * plain  # measured: 1.44 against 0.19
