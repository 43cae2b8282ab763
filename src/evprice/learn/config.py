"""``PPOConfig``: every setting of the in-house MAPPO / IPPO trainer, typed, frozen, validated.

One env-step is one pricing decision of one environment (all its stations act at once);
``total_steps`` counts env-steps, so a run of ``total_steps`` with ``num_envs`` batched
environments makes ``total_steps / (num_envs * rollout_periods)`` updates.
"""

from __future__ import annotations

from dataclasses import dataclass

from evprice.core.config import check_choice, check_float, check_int, invalid
from evprice.core.declared import ConfigMixin, config_field

ALGORITHMS = ("mappo", "ippo")
DEVICES = ("auto", "cpu", "cuda")
OBS_NORMALISATION = ("running", "bounds", "none")
DISTRIBUTIONS = ("gaussian", "beta")

_f = config_field


@dataclass(frozen=True)
class PPOConfig(ConfigMixin):
    """Settings of :func:`evprice.learn.trainer.train` (``evprice train mappo|ippo``)."""

    CONFIG_NAME = "PPOConfig"

    algo: str = _f(
        "mappo", "-", "'mappo': critic on the global state (centralised); 'ippo': each agent's critic on its own obs"
    )
    total_steps: int = _f(200_000, "env-steps", "training length: pricing decisions x environments")
    num_envs: int = _f(64, "1", "environments simulated in one batch")
    rollout_periods: int = _f(32, "periods", "pricing periods per environment collected before each update")
    gamma: float = _f(0.95, "1", "discount factor per pricing period")
    gae_lambda: float = _f(0.95, "1", "GAE lambda")
    learning_rate: float = _f(3e-4, "1", "Adam learning rate (actor and critic)")
    anneal_lr: bool = _f(True, "-", "decay the learning rate linearly to 0 over the run")
    update_epochs: int = _f(5, "1", "passes over each rollout")
    minibatches: int = _f(4, "1", "minibatches per pass")
    clip_coef: float = _f(0.2, "1", "PPO ratio clipping")
    clip_value: bool = _f(False, "-", "clip the value update like the policy's")
    entropy_coef: float = _f(0.0, "1", "weight of the entropy bonus")
    value_coef: float = _f(0.5, "1", "weight of the value loss")
    max_grad_norm: float = _f(0.5, "1", "gradient-norm clipping")
    target_kl: float | None = _f(None, "1", "stop an update's epochs once the approximate KL exceeds it; None = never")
    hidden_sizes: tuple[int, ...] = _f((64, 64), "1", "units of each hidden layer (actor and critic)")
    policy_distribution: str = _f(
        "beta", "-", "'beta' (on [-1, 1], no clipping) or 'gaussian' (clipped to [-1, 1] by the environment)"
    )
    init_log_std: float = _f(-0.5, "1", "initial log standard deviation of the Gaussian policy (actions in [-1, 1])")
    share_parameters: bool = _f(True, "-", "one actor (and critic) for all stations, with the agent's one-hot as input")
    normalise_obs: str = _f(
        "running", "-", "'running' mean/std of observations, 'bounds' (declared feature bounds to [-1, 1]), 'none'"
    )
    normalise_reward: bool = _f(True, "-", "divide rewards by the running std of the discounted return")
    seed: int = _f(0, "-", "seeds torch, the environments and the policy's sampling")
    device: str = _f(
        "cpu", "-", "'cpu', 'cuda' or 'auto' (cuda when available; faster from about 1,024 environments up)"
    )
    torch_threads: int | None = _f(
        None, "1", "CPU threads torch may use; None = torch's default (one per core: fastest on 2 cores)"
    )
    eval_episodes: int = _f(16, "episodes", "episodes of the deterministic policy at each evaluation")
    eval_every_updates: int = _f(20, "updates", "evaluate (and log) every this many updates; 0 = only at the end")
    eval_seed: int | None = _f(
        None, "-", "seed of the evaluation episodes; None = the run's seed + 1 (one value for all seeds: common demand)"
    )
    checkpoint_every_updates: int = _f(50, "updates", "write a checkpoint every this many updates (and at the end)")

    def __post_init__(self) -> None:
        s = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        check_choice("algo", self.algo, ALGORITHMS)
        s("total_steps", check_int("total_steps", self.total_steps, low=1))
        s("num_envs", check_int("num_envs", self.num_envs, low=1, high=65_536))
        s("rollout_periods", check_int("rollout_periods", self.rollout_periods, low=1, high=100_000))
        s("gamma", check_float("gamma", self.gamma, low=0.0, high=1.0))
        s("gae_lambda", check_float("gae_lambda", self.gae_lambda, low=0.0, high=1.0))
        s("learning_rate", check_float("learning_rate", self.learning_rate, low=0.0, low_open=True, high=1.0))
        s("update_epochs", check_int("update_epochs", self.update_epochs, low=1, high=1000))
        s("minibatches", check_int("minibatches", self.minibatches, low=1))
        if self.minibatches > self.num_envs * self.rollout_periods:
            raise invalid(
                "minibatches",
                self.minibatches,
                f"an integer in [1, num_envs x rollout_periods = {self.num_envs * self.rollout_periods}]",
            )
        s("clip_coef", check_float("clip_coef", self.clip_coef, low=0.0, low_open=True, high=1.0))
        s("entropy_coef", check_float("entropy_coef", self.entropy_coef, low=0.0))
        s("value_coef", check_float("value_coef", self.value_coef, low=0.0))
        s("max_grad_norm", check_float("max_grad_norm", self.max_grad_norm, low=0.0, low_open=True))
        if self.target_kl is not None:
            s("target_kl", check_float("target_kl", self.target_kl, low=0.0, low_open=True))
        sizes = self.hidden_sizes
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__") or len(list(sizes)) == 0:
            raise invalid("hidden_sizes", sizes, "a non-empty list of layer widths, e.g. [64, 64]")
        s("hidden_sizes", tuple(check_int(f"hidden_sizes[{i}]", h, low=1, high=4096) for i, h in enumerate(sizes)))
        check_choice("policy_distribution", self.policy_distribution, DISTRIBUTIONS)
        s("init_log_std", check_float("init_log_std", self.init_log_std, low=-5.0, high=2.0))
        for name in ("anneal_lr", "clip_value", "share_parameters", "normalise_reward"):
            if not isinstance(getattr(self, name), bool):
                raise invalid(name, getattr(self, name), "true or false")
        check_choice("normalise_obs", self.normalise_obs, OBS_NORMALISATION)
        s("seed", check_int("seed", self.seed, low=0))
        check_choice("device", self.device, DEVICES)
        if self.torch_threads is not None:
            s("torch_threads", check_int("torch_threads", self.torch_threads, low=1, high=256))
        s("eval_episodes", check_int("eval_episodes", self.eval_episodes, low=1, high=100_000))
        s("eval_every_updates", check_int("eval_every_updates", self.eval_every_updates, low=0))
        if self.eval_seed is not None:
            s("eval_seed", check_int("eval_seed", self.eval_seed, low=0))
        s("checkpoint_every_updates", check_int("checkpoint_every_updates", self.checkpoint_every_updates, low=1))

    @property
    def steps_per_update(self) -> int:
        """Env-steps collected per update."""
        return self.num_envs * self.rollout_periods

    @property
    def n_updates(self) -> int:
        """Updates of a whole run (at least one)."""
        return max(1, -(-self.total_steps // self.steps_per_update))
