"""The probabilistic ensemble on a known 1-D system: delta = sin(x), reward = x^2, cost = 1[x > 0.5].

The state is x (D = 1); the action u (A = 1) is drawn but has no effect. Expected values come
from these formulas, not from the code.
"""

import numpy as np
import pytest
import torch

from evprice.core.config import ConfigError
from evprice.core.declared import describe_fields
from evprice.learn.ensemble import EnsembleConfig, ProbabilisticEnsemble, soft_bound_log_var
from evprice.learn.networks import GroupedLinear

SMALL = dict(hidden_sizes=(32, 32), batch_size=32, max_epochs=300, patience=20, learning_rate=3e-3)


def data(n, noise_std=0.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, size=(n, 1))
    u = rng.uniform(-1.0, 1.0, size=(n, 1))
    delta = np.sin(x) + noise_std * rng.standard_normal((n, 1))
    reward = x[:, 0] ** 2
    cost = (x[:, 0] > 0.5).astype(float)
    return x, u, x + delta, reward, cost


def fitted(cost_head="gaussian", noise_std=0.0, init_seed=0, data_seed=1, n=600, **overrides):
    torch.manual_seed(init_seed)
    model = ProbabilisticEnsemble(1, 1, EnsembleConfig(**{**SMALL, "cost_head": cost_head, **overrides}))
    info = model.fit(*data(n, noise_std), generator=torch.Generator().manual_seed(data_seed))
    return model, info


def grid(values):
    x = torch.tensor(values, dtype=torch.float32)[:, None]
    return x, torch.zeros_like(x)


@pytest.fixture(scope="module")
def clean():
    return fitted(n=1000)


@pytest.fixture(scope="module")
def noisy():
    return fitted(noise_std=0.1, n=1000)


def test_fits_a_known_function(clean):
    model, info = clean
    x, u = grid(np.linspace(-1.8, 1.8, 37))
    pred = model.predict(x, u)
    elites = model.elite_indices
    next_mean = pred["next_obs_mean"][elites, :, 0]  # (n_elites, P)
    assert next_mean.shape == (3, 37)
    assert (
        (next_mean - (x[:, 0] + torch.sin(x[:, 0]))) ** 2
    ).mean() < 5e-3  # RMS error about 0.07 on an amplitude of 1
    assert ((pred["reward_mean"][elites] - x[:, 0] ** 2) ** 2).mean() < 3e-2
    assert 1 <= info["epochs"] <= SMALL["max_epochs"] and np.isfinite(info["train_loss"])


def test_predicted_variance_matches_the_injected_noise(noisy):
    model, _ = noisy
    x, u = grid(np.linspace(-1.5, 1.5, 31))
    std = model.predict(x, u)["next_obs_var"][model.elite_indices].sqrt()
    assert 0.05 < float(std.mean()) < 0.2
    assert float(std.min()) > 0.03 and float(std.max()) < 0.3


def test_epistemic_uncertainty_grows_off_the_data(noisy):
    model, _ = noisy
    state_model = ProbabilisticEnsemble(1, 1, model.config.replace(uncertainty="state"))
    state_model.load_state_dict(model.state_dict())
    x, u = grid([0.0, 4.0])
    _, _, _, uncertainty = state_model.step(x, u, model.elite_indices[:1].repeat(2), torch.Generator(), sample=False)
    assert uncertainty.shape == (2,)
    assert float(uncertainty[1]) > 3.0 * float(uncertainty[0])
    # uncertainty is the std over the elites of their mean next state, in units of the std
    # of the state change in the training data (the fixture's data, redrawn here; the model
    # standardises on its 80% training split, hence the tolerance)
    x_data, _, next_data, _, _ = data(1000, 0.1)
    delta_std = float(np.std(next_data - x_data))
    means = model.predict(x, u)["next_obs_mean"][model.elite_indices]
    expected = means.std(dim=0, unbiased=False)[:, 0].numpy() / delta_std
    np.testing.assert_allclose(uncertainty.numpy(), expected, rtol=0.05)


def test_cost_uncertainty_is_the_elites_spread_of_the_predicted_cost(noisy):
    model, _ = noisy
    assert model.config.uncertainty == "cost"  # the default
    x, u = grid([0.0, 0.5, 4.0])
    _, _, _, uncertainty = model.step(x, u, model.elite_indices[:1].repeat(3), torch.Generator(), sample=False)
    costs = model.predict(x, u)["cost_mean"][model.elite_indices]  # (n_elites, 3)
    np.testing.assert_allclose(uncertainty.numpy(), costs.std(dim=0, unbiased=False).numpy(), rtol=1e-6)


def test_uncertainty_is_the_largest_standardised_disagreement_over_state_dimensions():
    """Two state dimensions on scales 1 and 1000 with the same relative disagreement: the
    big unit must not dominate. Members are set by hand: member e predicts delta = e * c * s."""
    torch.manual_seed(0)
    model = ProbabilisticEnsemble(2, 1, EnsembleConfig(n_members=3, n_elites=3, hidden_sizes=(4,), uncertainty="state"))
    with torch.no_grad():
        model.out_std[:2] = torch.tensor([1.0, 1000.0])
        model.out_mean.zero_()
    obs, act = torch.zeros(2, 2), torch.zeros(2, 1)
    mean_n = torch.tensor([[0.0, 0.0], [1.0, 2.0], [2.0, 4.0]])  # standardised means per member (E, 2)

    def raw(x):  # every member predicts its standardised means, log-variance 0, for every input
        e, n = mean_n.shape[0], x.shape[0]  # x: (N, E, D + A)
        mean = torch.zeros(e, n, model.n_gauss)
        mean[:, :, :2] = mean_n[:, None, :]
        return mean, torch.zeros(e, n, model.n_gauss), None

    model._raw = raw
    _, _, _, u = model.step(obs, act, torch.tensor([0, 1]), torch.Generator(), sample=False)
    # population std over members of (0, 1, 2) is sqrt(2/3); of (0, 2, 4) twice that
    np.testing.assert_allclose(u.numpy(), [2 * np.sqrt(2 / 3)] * 2, rtol=1e-6)


def test_logistic_cost_head_gives_the_violation_probability():
    model, _ = fitted("logistic", max_epochs=150)
    x, u = grid([-1.5, 1.5])
    pred = model.predict(x, u)
    p = pred["cost_mean"][model.elite_indices]
    assert (p[:, 0] < 0.1).all() and (p[:, 1] > 0.9).all()
    np.testing.assert_allclose(pred["cost_var"].numpy(), (pred["cost_mean"] * (1 - pred["cost_mean"])).numpy())
    # a logistic head has one fewer Gaussian output than a Gaussian one: weights (E, 32, 2 * 2 + 1)
    assert model.body[-1].weight.shape == (5, 32, 5)
    with pytest.raises(ValueError, match="cost must lie in"):
        model.fit(*data(50)[:4], np.full(50, 2.0), generator=torch.Generator())


def test_elites_are_the_members_with_lowest_holdout_mse(clean):
    model, info = clean
    mse = info["holdout_mse"]
    assert mse.shape == (5,) and np.isfinite(mse).all()
    assert sorted(info["elites"].tolist()) == sorted(np.argsort(mse)[:3].tolist())
    assert info["elites"].tolist() == model.elite_indices.tolist()
    assert mse[info["elites"]].max() <= np.delete(mse, info["elites"]).min()


def test_training_is_deterministic_given_the_seeds():
    kw = dict(max_epochs=5, hidden_sizes=(16,))
    (a, ia), (b, ib) = fitted(**kw), fitted(**kw)
    assert ia["epochs"] == ib["epochs"] and ia["train_loss"] == ib["train_loss"]
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka
    x, u = grid([0.3, -0.7, 1.1])
    members = torch.tensor([0, 2, 1])
    sa = a.step(x, u, members, torch.Generator().manual_seed(3))
    sb = b.step(x, u, members, torch.Generator().manual_seed(3))
    assert all(torch.equal(p, q) for p, q in zip(sa, sb))
    # a different data generator gives a different split and bootstrap, so different weights
    c, _ = fitted(data_seed=2, **kw)
    assert not torch.equal(a.body[0].weight, c.body[0].weight)


def test_layers_hold_batched_member_weights_and_match_a_per_member_mlp():
    torch.manual_seed(0)
    model = ProbabilisticEnsemble(3, 2, EnsembleConfig(n_members=4, n_elites=2, hidden_sizes=(8, 6)))
    linear = [m for m in model.body if isinstance(m, GroupedLinear)]
    assert [tuple(m.weight.shape) for m in linear] == [(4, 5, 8), (4, 8, 6), (4, 6, 2 * 5)]
    assert all(m.bias.shape == (4, 1, m.weight.shape[2]) for m in linear)
    obs, act = torch.randn(7, 3), torch.randn(7, 2)
    pred = model.predict(obs, act)
    for e in range(4):  # member e alone, by hand: SiLU MLP with weight[e]
        h = torch.cat([obs, act], dim=1)
        for i, m in enumerate(linear):
            h = h @ m.weight[e] + m.bias[e, 0]
            if i < len(linear) - 1:
                h = torch.nn.functional.silu(h)
        torch.testing.assert_close(pred["next_obs_mean"][e], obs + h[:, :3])
        torch.testing.assert_close(pred["reward_mean"][e], h[:, 3])
        torch.testing.assert_close(pred["cost_mean"][e], h[:, 4])
        log_var = soft_bound_log_var(h[:, 5:], model.min_log_var, model.max_log_var)
        torch.testing.assert_close(pred["next_obs_var"][e], log_var[:, :3].exp())
        torch.testing.assert_close(pred["cost_var"][e], log_var[:, 4].exp())
    # the log-variance stays inside the soft bounds [-10, 0.5] (no normalisation before fit)
    for key in ("next_obs_var", "reward_var", "cost_var"):
        assert (pred[key] > np.exp(-10.0) * 0.99).all() and (pred[key] < np.exp(0.5) * 1.01).all()


def test_step_routes_each_particle_through_its_member(clean):
    model, _ = clean
    x, u = grid([0.2, 0.2, 0.2, -1.0])
    members = torch.tensor([0, 1, 4, 2])
    pred = model.predict(x, u)
    next_obs, reward, cost, _ = model.step(x, u, members, torch.Generator(), sample=False)
    rows = torch.arange(4)
    assert next_obs.shape == (4, 1) and reward.shape == (4,) and cost.shape == (4,)
    torch.testing.assert_close(next_obs, pred["next_obs_mean"][members, rows])
    torch.testing.assert_close(reward, pred["reward_mean"][members, rows])
    torch.testing.assert_close(cost, pred["cost_mean"][members, rows])
    # sampling: many particles through one member scatter with the member's predicted std
    many = x[:1].repeat(4000, 1)
    drawn, _, _, _ = model.step(many, torch.zeros_like(many), torch.zeros(4000, dtype=torch.long), torch.Generator())
    std = float(pred["next_obs_var"][0, 0, 0].sqrt())
    assert abs(float(drawn.std()) - std) < 0.1 * std + 1e-6
    assert abs(float(drawn.mean()) - float(pred["next_obs_mean"][0, 0, 0])) < 5 * std / np.sqrt(4000) + 1e-6
    chosen = model.sample_members(1000, torch.Generator().manual_seed(0))
    assert set(chosen.tolist()) == set(model.elite_indices.tolist())
    with pytest.raises(ValueError, match="member_index"):
        model.step(x, u, torch.tensor([0, 1, 5, 2]), torch.Generator())


def test_normalisation_travels_in_the_state_dict(clean):
    model, _ = clean
    copy = ProbabilisticEnsemble(1, 1, model.config)
    copy.load_state_dict(model.state_dict())
    x, u = grid([-1.0, 0.5, 1.7])
    for key, value in model.predict(x, u).items():
        torch.testing.assert_close(copy.predict(x, u)[key], value)
    assert float(model.in_std[0]) == pytest.approx(4 / np.sqrt(12), rel=0.1)  # std of U[-2, 2]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_members", 0),
        ("n_elites", 6),
        ("hidden_sizes", ()),
        ("activation", "gelu"),
        ("learning_rate", 0.0),
        ("weight_decay", -1e-4),
        ("batch_size", 0),
        ("holdout_fraction", 1.0),
        ("patience", 0),
        ("max_log_var", -20.0),
        ("cost_head", "poisson"),
    ],
)
def test_bad_config_values_name_the_field(field, value):
    with pytest.raises(ConfigError, match=f"^{field}="):
        EnsembleConfig(**{field: value})


def test_n_elites_is_bounded_by_the_members_and_every_field_is_declared():
    assert EnsembleConfig(n_members=2, n_elites=2, hidden_sizes=[8.0]).hidden_sizes == (8,)
    with pytest.raises(ConfigError, match=r"^n_elites=3 is invalid: expected an integer in \[1, 2\]"):
        EnsembleConfig(n_members=2, n_elites=3)
    with pytest.raises(ConfigError, match="^max_log_var=-10.0 is invalid: expected a number > min_log_var = -10"):
        EnsembleConfig(max_log_var=-10.0)
    assert all(r["allowed"] for r in describe_fields(EnsembleConfig))


def test_bad_inputs_are_named():
    model = ProbabilisticEnsemble(2, 1, EnsembleConfig(hidden_sizes=(4,)))
    obs, act = np.zeros((10, 2)), np.zeros((10, 1))
    with pytest.raises(ValueError, match="^act has shape"):
        model.predict(obs, np.zeros((10, 2)))
    with pytest.raises(ValueError, match="^reward has shape"):
        model.fit(obs, act, obs, np.zeros(9), np.zeros(10), torch.Generator())
    with pytest.raises(ValueError, match="^next_obs holds non-finite"):
        model.fit(obs, act, np.full((10, 2), np.nan), np.zeros(10), np.zeros(10), torch.Generator())
    with pytest.raises(ValueError, match="N=1 transitions"):
        model.fit(obs[:1], act[:1], obs[:1], np.zeros(1), np.zeros(1), torch.Generator())
    with pytest.raises(ConfigError, match="^obs_dim="):
        ProbabilisticEnsemble(0, 1)


def test_platt_scaling_recovers_a_known_miscalibration():
    # labels drawn with probability sigmoid(0.5 z - 1) of the logits z: the fit must find (0.5, -1)
    from evprice.learn.ensemble import platt_scaling

    gen = torch.Generator().manual_seed(0)
    z = 6.0 * torch.rand(40_000, generator=gen) - 3.0
    y = (torch.rand(40_000, generator=gen) < torch.sigmoid(0.5 * z - 1.0)).double()
    a, b = platt_scaling(z, y)
    assert a == pytest.approx(0.5, abs=0.04) and b == pytest.approx(-1.0, abs=0.04)
    # perfectly separated or one-class labels stay finite (the ridge)
    a, b = platt_scaling(z, (z > 0).double())
    assert np.isfinite([a, b]).all() and a > 1.0
    assert np.isfinite(platt_scaling(z, torch.zeros_like(z))).all()


def test_calibrated_cost_head_matches_a_known_violation_probability():
    """Violations drawn with probability q(x) = sigmoid(2 x): after the fit's Platt scaling on
    its held-out split the elites' mean probability follows q within 0.05 over the data's range;
    a head made over-confident (its logit tripled, as a head that fits selected data can be) is
    off by more than 0.15, and calibrating it on fresh draws brings it back within 0.05."""
    rng = np.random.default_rng(3)
    n = 1500
    x = rng.uniform(-2.0, 2.0, size=(n, 1))
    u = rng.uniform(-1.0, 1.0, size=(n, 1))
    q = 1.0 / (1.0 + np.exp(-2.0 * x[:, 0]))
    cost = (rng.uniform(size=n) < q).astype(float)
    torch.manual_seed(0)
    cfg = EnsembleConfig(**{**SMALL, "cost_head": "logistic", "max_epochs": 100, "cost_calibration": "platt"})
    model = ProbabilisticEnsemble(1, 1, cfg)
    model.fit(x, u, x + np.sin(x), x[:, 0] ** 2, cost, generator=torch.Generator().manual_seed(1))
    a, b = (float(v) for v in model.cost_calibration)
    assert (a, b) != (1.0, 0.0)
    xs, us = grid(np.linspace(-1.8, 1.8, 19).tolist())
    p = model.predict(xs, us)["cost_mean"][model.elite_indices].mean(dim=0).numpy()
    truth = 1.0 / (1.0 + np.exp(-2.0 * xs[:, 0].numpy()))
    np.testing.assert_allclose(p, truth, atol=0.05)
    # the state travels: a fresh model with the saved state predicts the same probabilities
    other = ProbabilisticEnsemble(1, 1, cfg)
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(
        other.predict(xs, us)["cost_mean"].numpy(), model.predict(xs, us)["cost_mean"].numpy()
    )
    # a state saved before the calibration existed loads with the identity
    old = {k: v for k, v in model.state_dict().items() if k != "cost_calibration"}
    other.load_state_dict(old)
    assert other.cost_calibration.tolist() == [1.0, 0.0]
    # over-confidence by construction: the logit column of the last layer tripled
    with torch.no_grad():
        model.body[-1].weight[..., -1] *= 3.0
        model.body[-1].bias[..., -1] *= 3.0
    model.cost_calibration.copy_(torch.tensor([1.0, 0.0]))
    p = model.predict(xs, us)["cost_mean"][model.elite_indices].mean(dim=0).numpy()
    assert np.abs(p - truth).max() > 0.15
    x2 = rng.uniform(-2.0, 2.0, size=(3000, 1))
    violated = (rng.uniform(size=3000) < 1.0 / (1.0 + np.exp(-2.0 * x2[:, 0]))).astype(float)
    a, _ = model.calibrate_cost(x2, np.zeros_like(x2), violated)
    assert a == pytest.approx(1.0 / 3.0, abs=0.1)
    p = model.predict(xs, us)["cost_mean"][model.elite_indices].mean(dim=0).numpy()
    np.testing.assert_allclose(p, truth, atol=0.05)
    with pytest.raises(ValueError, match="must be 0 or 1"):
        model.calibrate_cost(x2[:3], np.zeros((3, 1)), [0.0, 0.5, 1.0])
