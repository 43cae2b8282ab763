"""Constrained cross-entropy-method (CEM) MPC planner with a learned uncertainty weight ``kappa``.

Document 2's ``ccem.py``, built as the document means it (and model-agnostic):

* action sequences ``(population, horizon, A)`` are drawn from a **truncated** normal inside
  ``[action_low, action_high]`` by the inverse-CDF method (no clipping, so no mass piles
  up on the bounds);
* each sequence is rolled out by ``particles`` copies, each copy through one ensemble
  member drawn at random from ``members`` and kept for the whole horizon (PETS "TS-inf");
* per sequence: predicted return ``R = mean_p sum_t gamma^t r_{p,t}``, predicted cost
  ``C = mean_p sum_t gamma^t c_{p,t}``, uncertainty ``U = mean_p max_t u_{p,t}`` and the
  augmented cost ``C + kappa * U``;
* feasible: ``C + kappa * U <= cost_limit``; elites are the ``n_elites`` best returns among
  the feasible sequences, or, when fewer than ``n_elites`` are feasible, the ``n_elites``
  lowest predicted costs ``C`` (Liu et al. 2020's robust CEM sorts by cost likewise). The
  fallback ranks by ``C``, not by ``C + kappa * U``: ``kappa`` grows for as long as episodes
  cost more than the limit, and ranking by the augmented cost would then minimise the
  uncertainty alone, holding the planner where the data are dense however unsafe that is
  (we measured exactly this trap on ``CoupledNetworkPeak-v0``: kappa rising without end
  while the planner kept the middle prices that violate). With ``constrained=False`` every
  sequence counts as feasible: plain CEM by the same code path;
* two search aids of iCEM (Pinneri et al. 2020), both off by default: ``noise_correlation``
  draws each sequence's steps correlated (an AR(1) Gaussian copula: the same truncated-normal
  marginals, smoother sequences, fewer effective dimensions), and ``keep_elites`` carries that
  fraction of the elites into the next iteration's population and, shifted by one step, into
  the next decision's first iteration, so that a good sequence once found is not lost to the
  sampling noise;
* the sampling mean and variance move towards the elites' with smoothing
  ``new = alpha * old + (1 - alpha) * elite``; after ``iterations`` the first action of the
  mean sequence is executed (MPC), and the mean shifted by one step (last step repeated)
  warm-starts the next call; :meth:`ConstrainedCEM.reset` clears it at an episode start;
* ``kappa`` is learned by projected dual ascent on the episode cost,
  ``kappa <- max(0, kappa + kappa_lr * (episode_cost - limit))`` (document 2's code left it
  unprojected, so it could go negative and *reward* uncertainty).

The model is any callable
``model(obs (P, D), act (P, A), member_index (P,) long, generator) -> (next_obs (P, D),
reward (P,), cost (P,), uncertainty (P,))`` on torch tensors; the ensemble provides it,
the tests use exact analytic models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from evprice.core.config import check_float, invalid
from evprice.core.declared import ConfigMixin, choice, config_field, flag, integer, number

Model = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor, torch.Generator | None],
    tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
]

_f = config_field


@dataclass(frozen=True)
class CCEMConfig(ConfigMixin):
    """Settings of :class:`ConstrainedCEM` (document 2's planner)."""

    CONFIG_NAME = "CCEMConfig"

    horizon: int = _f(
        5,
        "steps",
        "planning horizon H: decision steps looked ahead",
        integer(1, 1000, reason="every step of the horizon is one model call per particle and iteration"),
    )
    population: int = _f(
        400,
        "sequences",
        "action sequences sampled per CEM iteration",
        integer(1, 1_000_000, reason="every sequence is rolled out by `particles` model copies at once"),
    )
    n_elites: int = _f(
        40,
        "sequences",
        "elite sequences that set the next mean and variance (<= population)",
        integer(1, lambda c: c.population, reason="the elites are chosen among the population"),
    )
    iterations: int = _f(5, "1", "CEM iterations per decision", integer(1, 1000))
    noise_correlation: float = _f(
        0.0,
        "1",
        "correlation of a sampled sequence's consecutive steps (AR(1) Gaussian copula, marginals unchanged): "
        "smooth sequences in fewer effective dimensions, as iCEM's coloured noise; 0 = independent steps",
        number(0.0, 1.0, high_open=True),
    )
    keep_elites: float = _f(
        0.0,
        "1",
        "fraction of the elites carried into the next iteration's population and, shifted by one step, into "
        "the next decision's first iteration (iCEM's elite memory; 0 = plain CEM)",
        number(0.0, 1.0),
    )
    smoothing_alpha: float = _f(
        0.1,
        "1",
        "weight of the old mean/variance: new = alpha * old + (1 - alpha) * elite statistics",
        number(0.0, 1.0, high_open=True, reason="alpha = 1 would never move the sampling distribution"),
    )
    init_std_fraction: float = _f(
        0.25,
        "1",
        "initial sampling std as a fraction of (action_high - action_low); 0.25 = range / 4",
        number(
            0.0,
            10.0,
            low_open=True,
            reason="the sampler needs a std > 0; at 10 ranges the truncated normal is near uniform",
        ),
    )
    min_std_fraction: float = _f(
        0.01,
        "1",
        "floor of the sampling std as a fraction of (action_high - action_low); <= init_std_fraction",
        number(0.0),
    )
    particles: int = _f(
        20,
        "1",
        "model rollouts per sequence, each through a member drawn from `members`",
        integer(1, 100_000, reason="population x particles model copies are rolled out at once"),
    )
    constrained: bool = _f(True, "-", "select elites among feasible sequences; False = unconstrained CEM", flag())
    cost_limit: float = _f(
        0.0,
        "cost",
        "permitted predicted (discounted) cumulative cost over the horizon, uncertainty penalty included",
        number(),
    )
    kappa_init: float = _f(
        0.0, "cost / uncertainty", "initial weight of the uncertainty penalty added to the cost", number(0.0)
    )
    learn_kappa: bool = _f(True, "-", "update kappa by projected dual ascent in update_kappa()", flag())
    kappa_lr: float = _f(
        0.01, "1 / uncertainty", "dual-ascent step: kappa += kappa_lr * (episode cost - limit)", number(0.0)
    )
    gamma: float = _f(
        1.0, "1", "discount of reward and cost over the horizon (per step)", number(0.0, 1.0, low_open=True)
    )
    cost_estimate: str = _f(
        "mean",
        "-",
        "a sequence's predicted cost C over its particles: 'mean', or 'max' (the worst particle: robust CEM)",
        choice(("mean", "max")),
    )

    def __post_init__(self) -> None:
        self.check_declared()
        if self.min_std_fraction > self.init_std_fraction:
            raise invalid(
                "min_std_fraction",
                self.min_std_fraction,
                f"a finite number in [0, init_std_fraction = {self.init_std_fraction:g}]",
            )


@dataclass(frozen=True)
class PlanInfo:
    """Diagnostics of one :meth:`ConstrainedCEM.plan` call.

    ``n_feasible`` and ``used_fallback`` describe the last CEM iteration; the predictions
    are of the final mean sequence, rolled out with ``particles`` fresh particles.
    """

    n_feasible: int  # feasible sequences in the last iteration
    n_feasible_per_iteration: tuple[int, ...]  # (iterations,)
    used_fallback: bool  # last iteration's elites were the lowest-cost ones
    predicted_reward: float  # R of the mean sequence
    predicted_cost: float  # C of the mean sequence (no penalty)
    predicted_uncertainty: float  # U of the mean sequence
    predicted_augmented_cost: float  # C + kappa * U of the mean sequence
    kappa: float  # kappa used by this plan
    mean_sequence: torch.Tensor  # (H, A) final sampling mean; its first row is the action
    std_sequence: torch.Tensor  # (H, A) final sampling std


# ---------------------------------------------------------------------------- pure pieces


def sample_truncated_normal(
    mean: torch.Tensor,
    std: torch.Tensor,
    low: torch.Tensor,
    high: torch.Tensor,
    n: int,
    generator: torch.Generator | None,
    correlation: float = 0.0,
) -> torch.Tensor:
    """``n`` draws of ``N(mean, std^2)`` truncated to ``[low, high]``, by the inverse CDF.

    ``mean``, ``std``: (..., A) with ``std > 0``; ``low``, ``high``: (A,) (broadcast).
    Returns (n, ..., A) in ``mean``'s dtype. Computed in float64 with ``torch.special.ndtr``
    / ``ndtri`` (the normal CDF and its inverse, i.e. ``erf``/``erfinv`` written to stay
    accurate in the tails); the final clamp only removes floating-point round-off.

    ``correlation`` ``rho`` in [0, 1) correlates the draws along the second-to-last axis (a
    sequence's steps, ``mean`` (H, A)): the uniforms of the inverse CDF are ``ndtr(z)`` of a
    stationary AR(1) ``z_t = rho z_{t-1} + sqrt(1 - rho^2) e_t`` with ``z_0, e_t ~ N(0, 1)``
    (a Gaussian copula), so each step keeps its truncated-normal marginal while neighbouring
    steps move together: smooth sequences, as iCEM's coloured noise (Pinneri et al. 2020)
    gives, searched in fewer effective dimensions. 0 draws independent uniforms.
    """
    if n < 1:
        raise ValueError(f"n={n!r} is invalid: expected an integer >= 1")
    if not 0.0 <= correlation < 1.0:
        raise ValueError(f"correlation={correlation!r} is invalid: expected a number in [0, 1)")
    if not bool((std > 0).all()):
        raise ValueError("std must be > 0 everywhere")
    m = mean.to(torch.float64)
    s = std.to(torch.float64)
    lo = low.to(device=m.device, dtype=torch.float64).expand_as(m)
    hi = high.to(device=m.device, dtype=torch.float64).expand_as(m)
    cdf_lo = torch.special.ndtr((lo - m) / s)
    cdf_hi = torch.special.ndtr((hi - m) / s)
    if correlation > 0.0 and m.ndim >= 2:
        e = torch.randn((n, *m.shape), generator=generator, dtype=torch.float64, device=m.device)
        z = e.clone()
        keep = (1.0 - correlation**2) ** 0.5
        for t in range(1, m.shape[-2]):
            z[..., t, :] = correlation * z[..., t - 1, :] + keep * e[..., t, :]
        u = torch.special.ndtr(z)
    else:
        u = torch.rand((n, *m.shape), generator=generator, dtype=torch.float64, device=m.device)
    p = cdf_lo + u * (cdf_hi - cdf_lo)
    tiny = torch.finfo(torch.float64).tiny
    p = p.clamp(min=tiny, max=1.0 - torch.finfo(torch.float64).eps / 2)
    x = m + s * torch.special.ndtri(p)
    x = torch.minimum(torch.maximum(x, lo), hi)
    return x.to(mean.dtype)


def select_elites(
    reward: torch.Tensor,
    cost: torch.Tensor,
    augmented_cost: torch.Tensor,
    cost_limit: float,
    n_elites: int,
    constrained: bool,
) -> tuple[torch.Tensor, int, bool]:
    """Indices of the elite sequences.

    ``reward``, ``cost``, ``augmented_cost``: (N,). Feasible: ``augmented_cost <= cost_limit``
    (every sequence when ``constrained`` is False). With at least ``n_elites`` feasible
    sequences, the elites are the ``n_elites`` highest rewards among them; otherwise the
    ``n_elites`` lowest predicted costs ``cost``. Returns ``(indices (n_elites,), n_feasible,
    used_fallback)``.
    """
    n = reward.shape[0]
    if not 1 <= n_elites <= n:
        raise ValueError(f"n_elites={n_elites!r} is invalid: expected an integer in [1, {n}]")
    if constrained:
        feasible = augmented_cost <= cost_limit
    else:
        feasible = torch.ones_like(reward, dtype=torch.bool)
    n_feasible = int(feasible.sum())
    if n_feasible >= n_elites:
        score = torch.where(feasible, reward, torch.full_like(reward, -torch.inf))
        return torch.topk(score, n_elites).indices, n_feasible, False
    return torch.topk(-cost, n_elites).indices, n_feasible, True


def smoothed_update(
    mean: torch.Tensor,
    std: torch.Tensor,
    elites: torch.Tensor,
    alpha: float,
    min_std: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """CEM update with smoothing.

    ``mean``, ``std``: (H, A); ``elites``: (K, H, A); ``min_std``: (A,) floor. The new mean
    is ``alpha * mean + (1 - alpha) * elite mean``, the new variance ``alpha * std^2 +
    (1 - alpha) * elite variance`` (population variance, over K), and the new std is its
    square root, floored at ``min_std``. Returns ``(mean (H, A), std (H, A))``.
    """
    elite_mean = elites.mean(dim=0)
    elite_var = elites.var(dim=0, unbiased=False)
    new_mean = alpha * mean + (1.0 - alpha) * elite_mean
    new_var = alpha * std.square() + (1.0 - alpha) * elite_var
    return new_mean, torch.maximum(new_var.sqrt(), min_std.to(new_var.dtype).expand_as(new_var))


def shift_sequence(mean: torch.Tensor) -> torch.Tensor:
    """Warm start for the next decision: ``mean`` (H, A) moved one step earlier, last step repeated."""
    return torch.cat([mean[1:], mean[-1:]], dim=0)


def rollout(
    obs: torch.Tensor,
    actions: torch.Tensor,
    model: Model,
    members: torch.Tensor,
    particles: int,
    gamma: float,
    generator: torch.Generator | None,
    cost_estimate: str = "mean",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Predicted return, cost and uncertainty of each sequence.

    ``obs``: (D,); ``actions``: (N, H, A); ``members``: (M,) candidate member indices.
    Each sequence is copied ``particles`` times; each copy draws one member from
    ``members`` (uniformly) and keeps it for the whole horizon. Returns, each (N,):
    ``R = mean_p sum_t gamma^t r``, ``C = mean_p sum_t gamma^t c`` (``max_p`` with
    ``cost_estimate="max"``: the worst particle), ``U = mean_p max_t u``.
    """
    n, horizon, _ = actions.shape
    batch = n * particles
    state = obs.unsqueeze(0).expand(batch, -1).clone()  # (N*P, D)
    acts = actions.repeat_interleave(particles, dim=0)  # (N*P, H, A); sequence i -> rows i*P .. i*P+P-1
    pick = torch.randint(members.shape[0], (batch,), generator=generator, device=members.device)
    member_index = members[pick].to(obs.device)  # (N*P,)
    ret = torch.zeros(batch, dtype=obs.dtype, device=obs.device)
    cost = torch.zeros_like(ret)
    unc = torch.full_like(ret, -torch.inf)
    discount = 1.0
    for t in range(horizon):
        out = model(state, acts[:, t], member_index, generator)
        state, r, c, u = _check_model_output(out, batch, state.shape[1], t)
        ret = ret + discount * r.to(ret.dtype)
        cost = cost + discount * c.to(ret.dtype)
        unc = torch.maximum(unc, u.to(ret.dtype))
        discount *= gamma
    per_seq = lambda x: x.view(n, particles).mean(dim=1)  # noqa: E731
    worst = cost.view(n, particles).amax(dim=1) if cost_estimate == "max" else per_seq(cost)
    return per_seq(ret), worst, per_seq(unc)


def _check_model_output(out: Any, batch: int, obs_dim: int, t: int) -> tuple[torch.Tensor, ...]:
    if not isinstance(out, (tuple, list)) or len(out) != 4:
        raise ValueError(f"model output at step {t} is invalid: expected a tuple (next_obs, reward, cost, uncertainty)")
    shapes = {"next_obs": (batch, obs_dim), "reward": (batch,), "cost": (batch,), "uncertainty": (batch,)}
    for (name, shape), x in zip(shapes.items(), out):
        if not isinstance(x, torch.Tensor) or tuple(x.shape) != shape:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"model output {name} at step {t} has shape {got}: expected {shape}")
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"model output {name} at step {t} holds NaN or infinite values")
    return tuple(out)


# ---------------------------------------------------------------------------- planner


class ConstrainedCEM:
    """Constrained CEM MPC planner (see the module docstring for the rules).

    ``action_low``, ``action_high``: (A,) finite bounds with ``low < high``. Actions and
    observations are handled in ``dtype`` on ``device`` (the model's). State between calls:
    ``kappa`` and the warm-start mean; :meth:`state_dict` saves both.
    """

    def __init__(
        self,
        config: CCEMConfig,
        action_low: Any,
        action_high: Any,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if not isinstance(config, CCEMConfig):
            raise TypeError(f"config must be a CCEMConfig, got {type(config).__name__}")
        low = torch.as_tensor(action_low, dtype=torch.float64).to(device)
        high = torch.as_tensor(action_high, dtype=torch.float64).to(device)
        if low.ndim != 1 or low.shape[0] < 1 or high.shape != low.shape:
            raise ValueError(
                f"action_low {tuple(low.shape)} and action_high {tuple(high.shape)} "
                "must be 1-D of the same length A >= 1"
            )
        if not bool(torch.isfinite(low).all() and torch.isfinite(high).all()):
            raise ValueError(f"action_low={low.tolist()} and action_high={high.tolist()} must be finite")
        if not bool((low < high).all()):
            raise ValueError(f"action_low={low.tolist()} must be < action_high={high.tolist()} in every dimension")
        self.config = config
        self.dtype = dtype
        self.device = low.device
        self.action_low = low.to(dtype)  # (A,)
        self.action_high = high.to(dtype)  # (A,)
        span = high - low
        self._low64, self._high64 = low, high
        self._init_std = config.init_std_fraction * span  # (A,) float64
        self._min_std = config.min_std_fraction * span  # (A,) float64
        self.kappa: float = config.kappa_init
        self._warm_mean: torch.Tensor | None = None  # (H, A) float64
        self._warm_elites: torch.Tensor | None = None  # (K, H, A) float64, shifted kept elites
        self.last_info: PlanInfo | None = None

    @property
    def action_dim(self) -> int:
        return int(self.action_low.shape[0])

    @property
    def warm_mean(self) -> torch.Tensor | None:
        """The mean sequence (H, A) the next :meth:`plan` starts from; None = the middle of the bounds."""
        return None if self._warm_mean is None else self._warm_mean.to(self.dtype).clone()

    def reset(self) -> None:
        """Forget the warm start (call at each episode start). ``kappa`` is kept."""
        self._warm_mean = None
        self._warm_elites = None
        self.last_info = None

    def plan(
        self,
        obs: Any,
        model: Model,
        members: Any,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """Plan from ``obs`` (D,) and return the action (A,) to execute now.

        ``members``: (M,) integer indices of the ensemble members the particles may use
        (e.g. the elite members). All randomness comes from ``generator``.
        """
        cfg = self.config
        obs_t = torch.as_tensor(obs, dtype=self.dtype, device=self.device)
        if obs_t.ndim != 1 or obs_t.shape[0] < 1:
            raise ValueError(f"obs must be 1-D (D,), got shape {tuple(obs_t.shape)}")
        if not bool(torch.isfinite(obs_t).all()):
            raise ValueError("obs holds NaN or infinite values")
        members_t = torch.as_tensor(members, device=self.device)
        if members_t.ndim != 1 or members_t.shape[0] < 1 or members_t.is_floating_point():
            raise ValueError(
                f"members must be a non-empty 1-D integer tensor (M,), got {members_t.dtype} {tuple(members_t.shape)}"
            )
        members_t = members_t.long()
        shape = (cfg.horizon, self.action_dim)
        if self._warm_mean is None:
            mean = ((self._low64 + self._high64) / 2).expand(shape).clone()
        else:
            mean = torch.minimum(torch.maximum(self._warm_mean, self._low64), self._high64)
        std = self._init_std.expand(shape).clone()
        n_feasible_history: list[int] = []
        used_fallback = False
        n_keep = round(cfg.keep_elites * cfg.n_elites)
        kept = self._warm_elites
        for _ in range(cfg.iterations):
            samples = sample_truncated_normal(
                mean, std, self._low64, self._high64, cfg.population, generator, cfg.noise_correlation
            )
            if kept is not None and n_keep > 0:  # iCEM: the best sequences so far compete again
                samples = torch.cat([samples, kept.to(samples.dtype)], dim=0)
            ret, cost, unc = rollout(
                obs_t, samples.to(self.dtype), model, members_t, cfg.particles, cfg.gamma, generator, cfg.cost_estimate
            )
            aug = cost + self.kappa * unc
            idx, n_feasible, used_fallback = select_elites(
                ret, cost, aug, cfg.cost_limit, cfg.n_elites, cfg.constrained
            )
            n_feasible_history.append(n_feasible)
            mean, std = smoothed_update(mean, std, samples[idx], cfg.smoothing_alpha, self._min_std)
            kept = samples[idx[:n_keep]].to(torch.float64)  # topk order: the best first
        mean = torch.minimum(torch.maximum(mean, self._low64), self._high64)
        r_m, c_m, u_m = rollout(
            obs_t,
            mean.to(self.dtype).unsqueeze(0),
            model,
            members_t,
            cfg.particles,
            cfg.gamma,
            generator,
            cfg.cost_estimate,
        )
        self.last_info = PlanInfo(
            n_feasible=n_feasible_history[-1],
            n_feasible_per_iteration=tuple(n_feasible_history),
            used_fallback=used_fallback,
            predicted_reward=float(r_m[0]),
            predicted_cost=float(c_m[0]),
            predicted_uncertainty=float(u_m[0]),
            predicted_augmented_cost=float(c_m[0] + self.kappa * u_m[0]),
            kappa=self.kappa,
            mean_sequence=mean.to(self.dtype).clone(),
            std_sequence=std.to(self.dtype).clone(),
        )
        self._warm_mean = shift_sequence(mean)
        self._warm_elites = torch.stack([shift_sequence(e) for e in kept]) if n_keep > 0 else None
        return mean[0].to(self.dtype).clone()

    def update_kappa(self, episode_cost: float, cost_limit_episode: float) -> float:
        """Projected dual ascent: ``kappa <- max(0, kappa + kappa_lr * (episode_cost - cost_limit_episode))``.

        ``episode_cost``: the observed cumulative cost of the finished episode;
        ``cost_limit_episode``: the permitted cost per episode (same unit). No-op when
        ``learn_kappa`` is False. Returns the new ``kappa`` (never negative).
        """
        c = check_float("episode_cost", episode_cost)
        limit = check_float("cost_limit_episode", cost_limit_episode)
        if self.config.learn_kappa:
            self.kappa = max(0.0, self.kappa + self.config.kappa_lr * (c - limit))
        return self.kappa

    def state_dict(self) -> dict[str, Any]:
        """``{"kappa": float, "warm_mean": (H, A) float64 tensor or None, "warm_elites": (K, H, A)
        float64 tensor or None}`` for checkpoints (``warm_elites``: the shifted kept elites of
        ``keep_elites``)."""
        return {
            "kappa": float(self.kappa),
            "warm_mean": None if self._warm_mean is None else self._warm_mean.clone(),
            "warm_elites": None if self._warm_elites is None else self._warm_elites.clone(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (a state without ``warm_elites``, saved
        before they existed, keeps none); raises on a bad kappa or warm-start shape."""
        missing = {"kappa", "warm_mean"} - set(state)
        if missing:
            raise KeyError(f"ConstrainedCEM state is missing {sorted(missing)}")
        kappa = check_float("kappa", state["kappa"], low=0.0)
        expected = (self.config.horizon, self.action_dim)
        warm = state["warm_mean"]
        if warm is not None:
            warm = torch.as_tensor(warm, dtype=torch.float64, device=self.device)
            if tuple(warm.shape) != expected or not bool(torch.isfinite(warm).all()):
                raise ValueError(f"warm_mean must be a finite tensor of shape {expected}, got {tuple(warm.shape)}")
            warm = warm.clone()
        elites = state.get("warm_elites")
        if elites is not None:
            elites = torch.as_tensor(elites, dtype=torch.float64, device=self.device)
            if elites.ndim != 3 or tuple(elites.shape[1:]) != expected or not bool(torch.isfinite(elites).all()):
                raise ValueError(
                    f"warm_elites must be a finite tensor of shape (K, {expected[0]}, {expected[1]}), "
                    f"got {tuple(elites.shape)}"
                )
            elites = elites.clone()
        self.kappa = kappa
        self._warm_mean = warm
        self._warm_elites = elites
