"""``PPOConfig``: every setting of the in-house MAPPO / IPPO trainer, typed, frozen, validated.

One env-step is one pricing decision of one environment (all its stations act at once);
``total_steps`` counts env-steps, so a run of ``total_steps`` with ``num_envs`` batched
environments makes ``total_steps / (num_envs * rollout_periods)`` updates.
"""

from __future__ import annotations

from dataclasses import dataclass

from evprice.core.config import invalid
from evprice.core.declared import ConfigMixin, choice, config_field, flag, integer, number

ALGORITHMS = ("mappo", "ippo", "mappo-lag", "ippo-lag")
LAGRANGIAN = ("mappo-lag", "ippo-lag")
"""The constrained algorithms: PPO-Lagrangian with a cost critic (:mod:`evprice.learn.lagrange`)."""
COST_TERMS = ("total", "voltage", "line", "carbon")
"""Constraint channels: the environment's ``info["cost"]``, or one grid cost term each."""
MULTIPLIER_RULES = ("plain", "pid")
DEVICES = ("auto", "cpu", "cuda")
OBS_NORMALISATION = ("running", "bounds", "none")
DISTRIBUTIONS = ("gaussian", "beta")

_f = config_field


@dataclass(frozen=True)
class PPOConfig(ConfigMixin):
    """Settings of :func:`evprice.learn.trainer.train` (``evprice train mappo|ippo``)."""

    CONFIG_NAME = "PPOConfig"

    algo: str = _f(
        "mappo",
        "-",
        "'mappo': critic on the global state (centralised); 'ippo': each agent's critic on its own obs; "
        "'mappo-lag' / 'ippo-lag': the same with a cost critic and a Lagrange multiplier per constraint",
        choice(ALGORITHMS),
    )
    total_steps: int = _f(200_000, "env-steps", "training length: pricing decisions x environments", integer(1))
    num_envs: int = _f(
        64,
        "1",
        "environments simulated in one batch",
        integer(1, 65_536, reason="a batch beyond 65,536 environments exceeds one machine's memory"),
    )
    rollout_periods: int = _f(
        32,
        "periods",
        "pricing periods per environment collected before each update",
        integer(1, 100_000, reason="the rollout of every environment is held in memory until the update"),
    )
    gamma: float = _f(0.95, "1", "discount factor per pricing period", number(0.0, 1.0))
    gae_lambda: float = _f(0.95, "1", "GAE lambda", number(0.0, 1.0))
    learning_rate: float = _f(
        3e-4,
        "1",
        "Adam learning rate (actor and critic)",
        number(0.0, 1.0, low_open=True, reason="Adam moves each weight by about this much per step"),
    )
    anneal_lr: bool = _f(True, "-", "decay the learning rate linearly to 0 over the run", flag())
    update_epochs: int = _f(5, "1", "passes over each rollout", integer(1, 1000))
    minibatches: int = _f(
        4,
        "1",
        "minibatches per pass",
        integer(1, reason="at most num_envs x rollout_periods, the samples of a rollout"),
    )
    clip_coef: float = _f(
        0.2,
        "1",
        "PPO ratio clipping",
        number(0.0, 1.0, low_open=True, reason="the ratio is clipped to [1 - clip_coef, 1 + clip_coef]"),
    )
    clip_value: bool = _f(False, "-", "clip the value update like the policy's", flag())
    entropy_coef: float = _f(0.0, "1", "weight of the entropy bonus", number(0.0))
    value_coef: float = _f(0.5, "1", "weight of the value loss", number(0.0))
    max_grad_norm: float = _f(0.5, "1", "gradient-norm clipping", number(0.0, low_open=True))
    target_kl: float | None = _f(
        None,
        "1",
        "stop an update's epochs once the approximate KL exceeds it; None = never",
        number(0.0, low_open=True, optional=True),
    )
    cost_limit: float | tuple[float, ...] = _f(
        0.3,
        "cost / episode",
        "permitted expected cost of an episode, one for every constraint or one per cost_terms entry (with an "
        "indicator cost: violating periods a day)",
        number(0.0, shape="one_or_list", used_when=("algo", LAGRANGIAN)),
    )
    cost_terms: tuple[str, ...] = _f(
        ("total",),
        "-",
        "the constraints, one multiplier each: 'total' (info['cost']), or grid terms 'voltage', 'line', 'carbon' "
        "(each an indicator where the grid's cost_form is 'indicator')",
        choice(COST_TERMS, shape="list", used_when=("algo", LAGRANGIAN)),
    )
    multiplier: str = _f(
        "plain",
        "-",
        "'plain': lambda += lambda_lr x (cost - limit), kept >= 0; 'pid': PID-Lagrangian (Stooke et al. 2020)",
        choice(MULTIPLIER_RULES, used_when=("algo", LAGRANGIAN)),
    )
    lambda_init: float = _f(
        0.0, "1", "initial Lagrange multiplier of each constraint", number(0.0, 1e6, used_when=("algo", LAGRANGIAN))
    )
    lambda_lr: float = _f(
        0.05,
        "1 / cost",
        "'plain' step of the multiplier per update and unit of excess episode cost (the integral gain under 'pid')",
        number(0.0, 1e3, used_when=("algo", LAGRANGIAN)),
    )
    pid_kp: float = _f(
        0.25,
        "1 / cost",
        "'pid': proportional gain on the excess episode cost",
        number(0.0, 1e3, used_when=("multiplier", ("pid",))),
    )
    pid_kd: float = _f(
        0.25,
        "1 / cost",
        "'pid': derivative gain on the rise of the episode cost since the last update",
        number(0.0, 1e3, used_when=("multiplier", ("pid",))),
    )
    cost_value_coef: float = _f(
        0.5, "1", "weight of the cost critic's loss", number(0.0, used_when=("algo", LAGRANGIAN))
    )
    hidden_sizes: tuple[int, ...] = _f(
        (64, 64), "1", "units of each hidden layer (actor and critic)", integer(1, 4096, shape="list")
    )
    policy_distribution: str = _f(
        "beta",
        "-",
        "'beta' (on [-1, 1], no clipping) or 'gaussian' (clipped to [-1, 1] by the environment)",
        choice(DISTRIBUTIONS),
    )
    init_log_std: float = _f(
        -0.5,
        "1",
        "initial log standard deviation of the Gaussian policy (actions in [-1, 1])",
        number(-5.0, 2.0, reason="a std from 0.007 to 7.4 on actions in [-1, 1]"),
    )
    share_parameters: bool = _f(
        True, "-", "one actor (and critic) for all stations, with the agent's one-hot as input", flag()
    )
    normalise_obs: str = _f(
        "running",
        "-",
        "'running' mean/std of observations, 'bounds' (declared feature bounds to [-1, 1]), 'none'",
        choice(OBS_NORMALISATION),
    )
    normalise_reward: bool = _f(True, "-", "divide rewards by the running std of the discounted return", flag())
    seed: int = _f(0, "-", "seeds torch, the environments and the policy's sampling", integer(0))
    device: str = _f(
        "cpu",
        "-",
        "'cpu', 'cuda' or 'auto' (cuda when available; faster from about 1,024 environments up)",
        choice(DEVICES),
    )
    torch_threads: int | None = _f(
        None,
        "1",
        "CPU threads torch may use; None = torch's default (one per core: fastest on 2 cores)",
        integer(1, 256, optional=True),
    )
    eval_episodes: int = _f(
        16, "episodes", "episodes of the deterministic policy at each evaluation", integer(1, 100_000)
    )
    eval_every_updates: int = _f(
        20, "updates", "evaluate (and log) every this many updates; 0 = only at the end", integer(0)
    )
    eval_seed: int | None = _f(
        None,
        "-",
        "seed of the evaluation episodes; None = the run's seed + 1 (one value for all seeds: common demand)",
        integer(0, optional=True),
    )
    checkpoint_every_updates: int = _f(
        50, "updates", "write a checkpoint every this many updates (and at the end)", integer(1)
    )

    def __post_init__(self) -> None:
        self.check_declared()
        if len(set(self.cost_terms)) != len(self.cost_terms):
            raise invalid("cost_terms", list(self.cost_terms), "a list of distinct constraints (each one multiplier)")
        if isinstance(self.cost_limit, tuple) and len(self.cost_limit) != len(self.cost_terms):
            raise invalid(
                "cost_limit",
                list(self.cost_limit),
                f"one number, or {len(self.cost_terms)} (one per cost_terms entry: {list(self.cost_terms)})",
            )
        if self.minibatches > self.num_envs * self.rollout_periods:
            raise invalid(
                "minibatches",
                self.minibatches,
                f"an integer in [1, num_envs x rollout_periods = {self.num_envs * self.rollout_periods}]",
            )

    @property
    def centralised(self) -> bool:
        """Whether the critics read the global state (MAPPO) rather than each station's observation."""
        return self.algo in ("mappo", "mappo-lag")

    @property
    def constrained(self) -> bool:
        """Whether the run is Lagrangian: a cost critic and a multiplier per constraint."""
        return self.algo in LAGRANGIAN

    @property
    def cost_limits(self) -> tuple[float, ...]:
        """The limit of each ``cost_terms`` entry, cost per episode."""
        if isinstance(self.cost_limit, tuple):
            return self.cost_limit
        return (float(self.cost_limit),) * len(self.cost_terms)

    @property
    def steps_per_update(self) -> int:
        """Env-steps collected per update."""
        return self.num_envs * self.rollout_periods

    @property
    def n_updates(self) -> int:
        """Updates of a whole run (at least one)."""
        return max(1, -(-self.total_steps // self.steps_per_update))
