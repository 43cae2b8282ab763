"""Probabilistic ensemble dynamics model (PETS, Chua et al. 2018; document 2's ``ProbEnsemble``).

``E`` multilayer perceptrons predict, from a state ``obs`` and an action ``act``, the state
change ``delta = next_obs - obs``, the reward and the constraint cost. The state change and
the reward have Gaussian heads (mean and a log-variance softly bounded between learned
limits, as in PETS); the cost has a Gaussian head, or a logistic one (the probability that a
binary "violated" cost is 1, trained by binary cross-entropy).

All members are evaluated at once: every layer holds weights ``(E, in, out)`` (a
:class:`~evprice.learn.networks.GroupedLinear` with one group per member) and is one batched
matmul; there is no Python loop over members. Internally activations are ``(N, E, width)``;
every public output has the member axis first, ``(E, N, ...)``.

Inputs are standardised with the mean/std of ``[obs, act]`` of the training data and the
Gaussian targets ``[delta, reward, (cost)]`` are standardised likewise; predictions are
de-standardised. These statistics, the elite members and the learned log-variance bounds are
buffers/parameters, so they travel in ``state_dict``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from evprice.core.config import check_int, invalid
from evprice.core.declared import ConfigMixin, choice, config_field, integer, number
from evprice.learn.networks import GroupedLinear

COST_HEADS = ("auto", "gaussian", "logistic")
COST_CALIBRATIONS = ("none", "platt")
UNCERTAINTIES = ("cost", "state")
ACTIVATIONS = ("silu", "relu", "tanh")
_ACTIVATION_MODULES = {"silu": nn.SiLU, "relu": nn.ReLU, "tanh": nn.Tanh}
_STD_FLOOR = 1e-6  # a feature whose std is below this is only centred, not scaled

_f = config_field
_LOG_VAR_REASON = "standardised units: a variance from exp(-30) = 1e-13 to exp(10) = 2e4 times the data's"


@dataclass(frozen=True)
class EnsembleConfig(ConfigMixin):
    """Settings of :class:`ProbabilisticEnsemble` and its :meth:`~ProbabilisticEnsemble.fit`."""

    CONFIG_NAME = "EnsembleConfig"

    n_members: int = _f(
        5,
        "1",
        "ensemble members E, each an MLP trained on its own bootstrap of the data",
        integer(1, 1000, reason="every layer holds the weights of all members at once"),
    )
    n_elites: int = _f(
        3,
        "1",
        "members with the lowest holdout MSE used by step() and the uncertainty",
        integer(1, lambda c: c.n_members, reason="the elites are chosen among the members"),
    )
    hidden_sizes: tuple[int, ...] = _f(
        (200, 200, 200), "1", "units of each hidden layer of every member", integer(1, 8192, shape="list")
    )
    activation: str = _f("silu", "-", "hidden activation: 'silu' (PETS' swish), 'relu' or 'tanh'", choice(ACTIVATIONS))
    learning_rate: float = _f(
        1e-3,
        "1",
        "AdamW learning rate",
        number(0.0, 1.0, low_open=True, reason="AdamW moves each weight by about this much per step"),
    )
    weight_decay: float = _f(
        1e-4,
        "1",
        "decoupled (AdamW) weight decay on every layer's weights (not biases)",
        number(0.0, 1.0, reason="a share of each weight removed per step (times the learning rate)"),
    )
    batch_size: int = _f(256, "samples", "minibatch size per member", integer(1))
    max_epochs: int = _f(50, "epochs", "most passes over each member's bootstrap per fit() call", integer(1))
    holdout_fraction: float = _f(
        0.2,
        "1",
        "share of the data held out (random split) for early stopping and elites",
        number(0.0, 1.0, low_open=True, high_open=True, reason="both the training and the holdout set need data"),
    )
    patience: int = _f(5, "epochs", "stop after this many epochs in which no member's holdout MSE improved", integer(1))
    min_log_var: float = _f(
        -10.0,
        "1",
        "initial lower soft bound of the log-variance (standardised target units)",
        number(-30.0, 10.0, reason=_LOG_VAR_REASON),
    )
    max_log_var: float = _f(
        0.5,
        "1",
        "initial upper soft bound of the log-variance (standardised target units)",
        number(-30.0, 10.0, reason=_LOG_VAR_REASON),
    )
    log_var_bound_weight: float = _f(
        0.01,
        "1",
        "weight of the PETS regulariser (sum of max_log_var - min_log_var) that tightens the bounds",
        number(0.0),
    )
    uncertainty: str = _f(
        "cost",
        "-",
        "what step() reports as uncertainty: 'cost' (std over the elites of the predicted cost, in cost units) or "
        "'state' (largest std over the elites of the predicted next state, in std units of the state change)",
        choice(UNCERTAINTIES),
    )
    cost_head: str = _f(
        "auto",
        "-",
        "'gaussian' (mean + variance of the cost), 'logistic' (probability of a binary cost, BCE), or 'auto': "
        "logistic when train_ccem's environment has an indicator cost (cost_form), else gaussian",
        choice(COST_HEADS),
    )

    cost_calibration: str = _f(
        "none",
        "-",
        "a logistic cost head's calibration after each fit: 'platt' fits p = sigmoid(a logit + b) to the held-out "
        "split's violations (the elites' logits pooled), 'none' keeps the head's own probabilities",
        choice(COST_CALIBRATIONS, used_when=("cost_head", ("auto", "logistic"))),
    )

    def __post_init__(self) -> None:
        self.check_declared()
        if self.max_log_var <= self.min_log_var:
            raise invalid("max_log_var", self.max_log_var, f"a number > min_log_var = {self.min_log_var:g}")


def _as_tensor(name: str, value: Any, shape: tuple[int | None, ...], device: torch.device) -> torch.Tensor:
    """``value`` as a float32 tensor of ``shape`` (``None`` = any length), finite, or raise naming it."""
    x = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value)
    x = x.to(device=device, dtype=torch.float32)
    ok = x.ndim == len(shape) and all(want is None or got == want for got, want in zip(x.shape, shape))
    if not ok:
        want = "(" + ", ".join("N" if w is None else str(w) for w in shape) + ")"
        raise ValueError(f"{name} has shape {tuple(x.shape)}: expected {want}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} holds non-finite values (NaN or inf)")
    return x


def platt_scaling(logits: torch.Tensor, labels: torch.Tensor, ridge: float = 1e-3) -> tuple[float, float]:
    """``(a, b)`` of Platt's calibration ``p = sigmoid(a z + b)`` of logits ``z`` (N,) to binary
    ``labels`` (N,): the maximum-likelihood logistic regression of the labels on the logits,
    by damped Newton steps in float64, with a small ridge pulling towards the identity ``(1, 0)``
    (so that labels the logits separate perfectly, or that are all 0, stay finite)."""
    z = logits.detach().double().reshape(-1)
    y = labels.detach().double().reshape(-1)
    x = torch.stack([z, torch.ones_like(z)], dim=1)  # (N, 2)
    prior = torch.tensor([1.0, 0.0], dtype=torch.float64)
    n = max(len(z), 1)

    def objective(w: torch.Tensor) -> float:  # the mean negative log-likelihood plus the ridge
        nll = nn.functional.binary_cross_entropy_with_logits(x @ w, y, reduction="sum") / n
        return float(nll + 0.5 * ridge * ((w - prior) ** 2).sum())

    w = prior.clone()
    value = objective(w)
    for _ in range(100):  # damped Newton: each step halved until the objective falls
        p = torch.sigmoid(x @ w)
        grad = x.T @ (p - y) / n + ridge * (w - prior)
        hess = (x.T * (p * (1 - p))) @ x / n + ridge * torch.eye(2, dtype=torch.float64)
        step, t = torch.linalg.solve(hess, grad), 1.0
        while t > 1e-8 and objective(w - t * step) > value:
            t *= 0.5
        w = w - t * step
        new_value = objective(w)
        if value - new_value < 1e-12:
            break
        value = new_value
    return float(w[0]), float(w[1])


def soft_bound_log_var(raw: torch.Tensor, min_log_var: torch.Tensor, max_log_var: torch.Tensor) -> torch.Tensor:
    """PETS' soft clamp of a raw log-variance into ``(min_log_var, max_log_var)`` (differentiable)."""
    log_var = max_log_var - nn.functional.softplus(max_log_var - raw)
    return min_log_var + nn.functional.softplus(log_var - min_log_var)


class ProbabilisticEnsemble(nn.Module):
    """``E`` probabilistic MLPs ``(obs, act) -> (delta, reward, cost)``, evaluated as one batch.

    ``obs_dim`` ``D`` and ``act_dim`` ``A`` are the widths of a state and an action. Call
    :meth:`fit` on transitions, then :meth:`predict` (every member on every input) or
    :meth:`step` (each particle through its own member). Parameter initialisation draws from
    torch's default generator (seeded by the caller); everything else from the ``generator``
    arguments.
    """

    def __init__(self, obs_dim: int, act_dim: int, config: EnsembleConfig | None = None) -> None:
        super().__init__()
        self.obs_dim = check_int("obs_dim", obs_dim, low=1)
        self.act_dim = check_int("act_dim", act_dim, low=0)
        self.config = config = config or EnsembleConfig()
        self.logistic_cost = config.cost_head == "logistic"
        self.n_gauss = self.obs_dim + 1 + (0 if self.logistic_cost else 1)  # Gaussian targets [delta, reward, cost?]
        n_in = self.obs_dim + self.act_dim
        n_out = 2 * self.n_gauss + (1 if self.logistic_cost else 0)
        layers: list[nn.Module] = []
        width = n_in
        for h in config.hidden_sizes:
            layers += [
                GroupedLinear(config.n_members, width, h, math.sqrt(2.0)),
                _ACTIVATION_MODULES[config.activation](),
            ]
            width = h
        layers.append(GroupedLinear(config.n_members, width, n_out, 1.0))
        self.body = nn.Sequential(*layers)
        self.max_log_var = nn.Parameter(torch.full((self.n_gauss,), config.max_log_var))
        self.min_log_var = nn.Parameter(torch.full((self.n_gauss,), config.min_log_var))
        self.register_buffer("in_mean", torch.zeros(n_in))
        self.register_buffer("in_std", torch.ones(n_in))
        self.register_buffer("out_mean", torch.zeros(self.n_gauss))
        self.register_buffer("out_std", torch.ones(self.n_gauss))
        self.register_buffer("elite_indices", torch.arange(config.n_elites, dtype=torch.long))
        # Platt's (a, b) of the logistic cost head, (1, 0) until calibrated
        self.register_buffer("cost_calibration", torch.tensor([1.0, 0.0]))

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """``nn.Module.load_state_dict``; a state saved before the cost calibration existed
        loads with the identity calibration ``(1, 0)``, which is what it predicted with."""
        if "cost_calibration" not in state_dict:
            state_dict = {**state_dict, "cost_calibration": torch.tensor([1.0, 0.0])}
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    # ------------------------------------------------------------------ forward

    @property
    def n_members(self) -> int:
        return self.config.n_members

    def _device(self) -> torch.device:
        return self.in_mean.device

    def _raw(self, x_norm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Standardised inputs ``(N, E, D + A)`` -> standardised mean ``(E, N, G)``, bounded
        log-variance ``(E, N, G)`` and the cost logit ``(E, N)`` (``None`` for a Gaussian cost)."""
        out = self.body(x_norm).transpose(0, 1)  # (E, N, n_out)
        g = self.n_gauss
        log_var = soft_bound_log_var(out[..., g : 2 * g], self.min_log_var, self.max_log_var)
        logit = out[..., 2 * g] if self.logistic_cost else None
        return out[..., :g], log_var, logit

    def _inputs(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """``(P, D)``, ``(P, A)`` -> standardised ``(P, E, D + A)`` (the same input for every member)."""
        x = (torch.cat([obs, act], dim=-1) - self.in_mean) / self.in_std
        return x.unsqueeze(1).expand(-1, self.n_members, -1)

    @torch.no_grad()
    def predict(self, obs: Any, act: Any) -> dict[str, torch.Tensor]:
        """Every member's prediction for every input ``obs`` ``(P, D)``, ``act`` ``(P, A)``.

        Returns ``next_obs_mean``/``next_obs_var`` ``(E, P, D)`` (``obs`` + predicted change),
        ``reward_mean``/``reward_var`` ``(E, P)``, ``cost_mean``/``cost_var`` ``(E, P)``
        (logistic head: probability ``p`` and ``p (1 - p)``). Variances are aleatoric, in the
        targets' own units squared.
        """
        obs_t = _as_tensor("obs", obs, (None, self.obs_dim), self._device())
        act_t = _as_tensor("act", act, (obs_t.shape[0], self.act_dim), self._device())
        mean_n, log_var, logit = self._raw(self._inputs(obs_t, act_t))
        mean = mean_n * self.out_std + self.out_mean
        var = torch.exp(log_var) * self.out_std**2
        d = self.obs_dim
        result = {
            "next_obs_mean": obs_t.unsqueeze(0) + mean[..., :d],
            "next_obs_var": var[..., :d],
            "reward_mean": mean[..., d],
            "reward_var": var[..., d],
        }
        if logit is None:
            result["cost_mean"], result["cost_var"] = mean[..., d + 1], var[..., d + 1]
        else:
            a, b = self.cost_calibration
            p = torch.sigmoid(a * logit + b)
            result["cost_mean"], result["cost_var"] = p, p * (1.0 - p)
        return result

    def sample_members(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``(n,)`` member indices drawn uniformly from the elites (a particle's member for :meth:`step`)."""
        pick = torch.randint(len(self.elite_indices), (n,), generator=generator)
        return self.elite_indices[pick.to(self.elite_indices.device)]

    @torch.no_grad()
    def step(
        self, obs: Any, act: Any, member_index: Any, generator: torch.Generator, sample: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Propagate ``P`` particles one step, particle ``p`` through member ``member_index[p]``.

        ``obs`` ``(P, D)``, ``act`` ``(P, A)``, ``member_index`` ``(P,)`` integers in
        ``[0, E)`` (normally elites, see :meth:`sample_members`). With ``sample`` the next
        state and the reward are drawn from the member's Gaussian (noise from ``generator``),
        else they are its mean. The cost is sampled likewise for a Gaussian head; a logistic
        head always gives the probability of a violation (the expected cost).

        Returns ``next_obs`` ``(P, D)``, ``reward`` ``(P,)``, ``cost`` ``(P,)`` and
        ``uncertainty`` ``(P,)``: the elite members' disagreement (epistemic, 0 with one
        elite), by ``config.uncertainty``: ``"cost"``, the population standard deviation
        across the elites of the predicted cost (mean or probability), in cost units, so that
        ``kappa x uncertainty`` is a pessimistic margin on the cost; ``"state"``, the largest
        over state dimensions of that deviation for the predicted mean next state, in units
        of each dimension's standard deviation of the state change in the training data (so
        that no dimension dominates by its unit).
        """
        pred = self.predict(obs, act)
        n_particles = pred["reward_mean"].shape[1]
        idx = torch.as_tensor(member_index, device=self._device())
        if idx.shape != (n_particles,) or idx.dtype.is_floating_point or idx.dtype == torch.bool:
            raise ValueError(
                f"member_index has shape {tuple(idx.shape)} and dtype {idx.dtype}: expected ({n_particles},) integers"
            )
        if n_particles and (idx.min() < 0 or idx.max() >= self.n_members):
            raise ValueError(f"member_index holds values outside [0, {self.n_members - 1}] (the ensemble's members)")
        rows = torch.arange(n_particles, device=idx.device)
        take = {k: v[idx, rows] for k, v in pred.items()}  # (P, D) or (P,)
        next_obs, reward, cost = take["next_obs_mean"], take["reward_mean"], take["cost_mean"]
        if sample:
            noise = torch.randn((n_particles, self.obs_dim + 2), generator=generator).to(next_obs.device)
            next_obs = next_obs + take["next_obs_var"].sqrt() * noise[:, : self.obs_dim]
            reward = reward + take["reward_var"].sqrt() * noise[:, self.obs_dim]
            if not self.logistic_cost:
                cost = cost + take["cost_var"].sqrt() * noise[:, self.obs_dim + 1]
        if self.config.uncertainty == "cost":
            uncertainty = pred["cost_mean"][self.elite_indices].std(dim=0, correction=0)  # (P,)
        else:
            elite_means = pred["next_obs_mean"][self.elite_indices]  # (n_elites, P, D)
            spread = elite_means.std(dim=0, correction=0) / self.out_std[: self.obs_dim]  # (P, D) standardised
            uncertainty = spread.amax(dim=-1)
        return next_obs, reward, cost, uncertainty

    # ------------------------------------------------------------------ training

    def _losses(
        self, x_norm: torch.Tensor, y_norm: torch.Tensor, label: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Training loss (scalar, summed over members) and per-member MSE ``(E,)`` for inputs
        ``(N, E, in)``, standardised targets ``(E, N, G)`` and cost labels ``(E, N)``."""
        mean, log_var, logit = self._raw(x_norm)
        err = (mean - y_norm) ** 2  # (E, N, G)
        nll = 0.5 * (err * torch.exp(-log_var) + log_var).mean(dim=(1, 2))  # (E,)
        sq = err.sum(dim=-1)
        n_terms = self.n_gauss
        if logit is not None and label is not None:
            nll = nll + nn.functional.binary_cross_entropy_with_logits(logit, label, reduction="none").mean(dim=1)
            sq = sq + (torch.sigmoid(logit) - label) ** 2
            n_terms += 1
        bound = self.config.log_var_bound_weight * (self.max_log_var.sum() - self.min_log_var.sum())
        return nll.sum() + bound, (sq / n_terms).mean(dim=1)

    def fit(
        self, obs: Any, act: Any, next_obs: Any, reward: Any, cost: Any, generator: torch.Generator
    ) -> dict[str, Any]:
        """Train every member on transitions ``obs`` ``(N, D)``, ``act`` ``(N, A)``,
        ``next_obs`` ``(N, D)``, ``reward`` ``(N,)``, ``cost`` ``(N,)`` (in [0, 1] for a
        logistic head). Continues from the current weights (call again on a grown buffer).

        A random ``holdout_fraction`` of the data is held out; each member trains on its own
        bootstrap (with replacement) of the rest by Gaussian NLL (+ BCE for a logistic cost,
        + the log-variance bound regulariser, + AdamW weight decay). After every epoch each
        member's holdout MSE (on standardised targets; Brier score for a logistic cost) is
        measured and its best weights kept; training stops when no member has improved for
        ``patience`` epochs or after ``max_epochs``. The ``n_elites`` members with the lowest
        holdout MSE become :attr:`elite_indices`. All draws come from ``generator``.

        Returns ``{"epochs": int, "train_loss": float (last epoch's mean), "holdout_mse":
        (E,) float ndarray, "elites": (n_elites,) int ndarray}``.
        """
        cfg, dev = self.config, self._device()
        obs_t = _as_tensor("obs", obs, (None, self.obs_dim), dev)
        n = obs_t.shape[0]
        act_t = _as_tensor("act", act, (n, self.act_dim), dev)
        next_t = _as_tensor("next_obs", next_obs, (n, self.obs_dim), dev)
        reward_t = _as_tensor("reward", reward, (n,), dev)
        cost_t = _as_tensor("cost", cost, (n,), dev)
        if self.logistic_cost and ((cost_t < 0) | (cost_t > 1)).any():
            raise ValueError("cost must lie in [0, 1] for cost_head='logistic' (1 = constraint violated)")
        n_hold = int(round(n * cfg.holdout_fraction))
        if n_hold < 1 or n_hold > n - 1:
            raise ValueError(
                f"fit() got N={n} transitions: with holdout_fraction={cfg.holdout_fraction:g} it needs at least "
                "one held-out and one training transition"
            )
        x = torch.cat([obs_t, act_t], dim=-1)
        targets = [next_t - obs_t, reward_t[:, None]] + ([] if self.logistic_cost else [cost_t[:, None]])
        y = torch.cat(targets, dim=-1)  # (N, G)
        label = cost_t if self.logistic_cost else None

        perm = torch.randperm(n, generator=generator).to(dev)
        hold, train = perm[:n_hold], perm[n_hold:]
        n_train = train.shape[0]
        self._set_normalisation(x[train], y[train])
        xn = (x - self.in_mean) / self.in_std
        yn = (y - self.out_mean) / self.out_std
        e = self.n_members
        x_hold = xn[hold].unsqueeze(1).expand(-1, e, -1)
        y_hold = yn[hold].unsqueeze(0).expand(e, -1, -1)
        label_hold = label[hold].unsqueeze(0).expand(e, -1) if label is not None else None
        boot = train[torch.randint(n_train, (e, n_train), generator=generator).to(dev)]  # (E, n_train)

        weights = [m.weight for m in self.body if isinstance(m, GroupedLinear)]
        others = [p for p in self.parameters() if all(p is not w for w in weights)]
        optimiser = torch.optim.AdamW(
            [{"params": weights, "weight_decay": cfg.weight_decay}, {"params": others, "weight_decay": 0.0}],
            lr=cfg.learning_rate,
        )
        per_member = [m for m in self.body if isinstance(m, GroupedLinear)]
        best_state = [(m.weight.detach().clone(), m.bias.detach().clone()) for m in per_member]
        best_mse = torch.full((e,), math.inf, device=dev)
        members = torch.arange(e, device=dev)[:, None]
        stale, epochs, train_loss = 0, 0, math.nan
        for _ in range(cfg.max_epochs):
            epochs += 1
            order = torch.argsort(torch.rand((e, n_train), generator=generator), dim=1).to(dev)
            total, batches = 0.0, 0
            for start in range(0, n_train, cfg.batch_size):
                rows = boot[members, order[:, start : start + cfg.batch_size]]  # (E, b)
                lab = label[rows] if label is not None else None
                loss, _ = self._losses(xn[rows].transpose(0, 1), yn[rows], lab)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total, batches = total + float(loss.detach()), batches + 1
            train_loss = total / batches / e
            with torch.no_grad():
                _, mse = self._losses(x_hold, y_hold, label_hold)
                improved = mse < best_mse
                if improved.any():
                    best_mse = torch.where(improved, mse, best_mse)
                    for layer, (w, b) in zip(per_member, best_state):
                        w[improved], b[improved] = layer.weight[improved], layer.bias[improved]
                    stale = 0
                else:
                    stale += 1
            if stale >= cfg.patience:
                break
        with torch.no_grad():
            for layer, (w, b) in zip(per_member, best_state):
                layer.weight.copy_(w)
                layer.bias.copy_(b)
        self.elite_indices.copy_(torch.argsort(best_mse, stable=True)[: cfg.n_elites])
        if self.logistic_cost and cfg.cost_calibration == "platt":
            self.calibrate_cost(obs_t[hold], act_t[hold], cost_t[hold])
        return {
            "epochs": epochs,
            "train_loss": train_loss,
            "holdout_mse": best_mse.cpu().numpy(),
            "elites": self.elite_indices.cpu().numpy().copy(),
        }

    @torch.no_grad()
    def calibrate_cost(self, obs: Any, act: Any, cost: Any) -> tuple[float, float]:
        """Platt-calibrate the logistic cost head on transitions ``obs`` ``(N, D)``, ``act``
        ``(N, A)`` with observed violations ``cost`` ``(N,)`` in {0, 1}: the elites' raw logits,
        pooled, are regressed on the violations (:func:`platt_scaling`) and :meth:`predict`
        gives ``sigmoid(a logit + b)`` from then on. :meth:`fit` calls it on its held-out split
        under ``cost_calibration="platt"``; a planner may call it on its latest data. Returns
        ``(a, b)``."""
        if not self.logistic_cost:
            raise ValueError("calibrate_cost needs cost_head='logistic' (a probability of violation to calibrate)")
        obs_t = _as_tensor("obs", obs, (None, self.obs_dim), self._device())
        act_t = _as_tensor("act", act, (obs_t.shape[0], self.act_dim), self._device())
        cost_t = _as_tensor("cost", cost, (obs_t.shape[0],), self._device())
        if ((cost_t != 0) & (cost_t != 1)).any():
            raise ValueError("cost must be 0 or 1 to calibrate a violation probability")
        _, _, logit = self._raw(self._inputs(obs_t, act_t))
        elite_logits = logit[self.elite_indices]  # (n_elites, N)
        a, b = platt_scaling(elite_logits, cost_t.unsqueeze(0).expand_as(elite_logits))
        self.cost_calibration.copy_(torch.tensor([a, b]))
        return a, b

    def _set_normalisation(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Store the mean/std of inputs ``(N, D + A)`` and Gaussian targets ``(N, G)``."""
        for data, mean, std in ((x, self.in_mean, self.in_std), (y, self.out_mean, self.out_std)):
            s = data.std(dim=0, correction=0)
            mean.copy_(data.mean(dim=0))
            std.copy_(torch.where(s < _STD_FLOOR, torch.ones_like(s), s))
