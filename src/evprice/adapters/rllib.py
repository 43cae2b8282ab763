"""Ray RLlib view of a market (the only module that imports Ray).

Needs the optional extra: ``pip install torch==2.13.0`` (CPU wheel, first) and then
``pip install "evprice[distributed]"``. ``import evprice`` never imports Ray; importing this
module does, and fails with that hint when Ray is missing.

* :class:`RllibMarketEnv`: an RLlib ``MultiAgentEnv`` over a one-member
  :class:`evprice.envs.MarketEnv` (``make_env(env_id, 1, **overrides)``); RLlib creates one
  per env runner (and per ``num_envs_per_env_runner``). Agents ``station_1 ... station_N``;
  actions ``Box(-1, 1, (1,), float32)`` per agent, mapped to the price range as everywhere
  in evprice (``(A,)`` under a coordination protocol: ``env.action_names``, the same for
  every agent so that one shared policy serves them, padding ignored); observations
  ``Box(low, high, (D,), float32)`` from the env's bounds; episodes end by truncation at
  the horizon (``truncateds["__all__"]``), never by termination; each agent's info
  is the PettingZoo view's (:func:`evprice.adapters.multi_agent.agent_infos`):
  its per-station values (``STATION_INFO_KEYS``: price, profit, ..., and the constraint
  ``cost``) and the ``market`` (and ``grid``) groups, as Python numbers.
* :func:`register_env`: registers a scenario (id plus overrides) under a Tune name.
* :func:`ppo_config`: a multi-agent ``PPOConfig`` with one shared policy or one per station.

RLlib API stack: the **new** one (``RLModule`` / ``Learner`` / ``EnvRunner`` with
ConnectorV2), RLlib's default since 2.40; it trains on CPU with ray 2.60 and torch 2.13
(tested). The old stack (``Policy`` / ``RolloutWorker``) is not used.

The environment is pickled by reference, so with a remote cluster (``ray://...``) evprice
must be installed on every node.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from gymnasium import spaces

from evprice.adapters.multi_agent import AgentActions, LiveAgentSnapshots, agent_infos
from evprice.envs.registry import make_env

try:
    from ray.rllib.env.multi_agent_env import MultiAgentEnv
except ImportError as e:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "evprice.adapters.rllib needs Ray RLlib: on a CPU machine run `pip install torch==2.13.0` first, "
        'then `pip install "evprice[distributed]"`'
    ) from e

if TYPE_CHECKING:
    from ray.rllib.algorithms.ppo import PPOConfig

SHARED_POLICY_ID = "shared"
"""Module id of the one policy all stations use with ``shared_policy=True``."""


class RllibMarketEnv(LiveAgentSnapshots, MultiAgentEnv):
    """RLlib ``MultiAgentEnv`` over a one-member :class:`~evprice.envs.MarketEnv`.

    Args:
        config: ``{"env_id": str, "overrides": {field: value}}`` (RLlib passes its
            ``env_config`` here, as an ``EnvContext``); ``env_id`` defaults to
            ``"PublicCharging-v0"``.
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        config = dict(config or {})
        self.env_id = str(config.get("env_id", "PublicCharging-v0"))
        self.overrides = dict(config.get("overrides") or {})
        self.env = make_env(self.env_id, 1, **self.overrides)
        self.possible_agents = list(self.env.agent_ids)
        self.agents = []
        self.observation_spaces = {
            a: spaces.Box(self.env.observation_low[i], self.env.observation_high[i], dtype=np.float32)
            for i, a in enumerate(self.possible_agents)
        }
        width = (self.env.action_size,)  # (1,), or a protocol's columns (padding ignored), the same for every agent
        self.action_spaces = {a: spaces.Box(-1.0, 1.0, shape=width, dtype=np.float32) for a in self.possible_agents}
        super().__init__()
        self._read_actions = AgentActions(self.env)

    @property
    def n_periods(self) -> int:
        """Pricing decisions per episode (its length in env steps)."""
        return self.env.n_periods

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        """New episode: ``({agent: obs (D,) float32}, {agent: {}})``. A seed restarts the random
        streams; ``seed=None`` continues them (a new day of the same seeded run)."""
        obs = self.env.reset(seed)[0]
        self.agents = list(self.possible_agents)
        return {a: obs[i] for i, a in enumerate(self.agents)}, {a: {} for a in self.agents}

    def step(self, action_dict: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """One pricing decision of every station (``{agent: (1,) in [-1, 1]}``)."""
        if not self.agents:
            raise RuntimeError(f"{self.env_id}: no agents are live: call reset() before step()")
        obs, reward, terminated, truncated, info = self.env.step_mapped(*self._read_actions.read(action_dict))
        term, trunc = bool(terminated[0]), bool(truncated[0])
        agents = self.possible_agents
        infos = agent_infos(agents, info)
        observations = {a: obs[0, i] for i, a in enumerate(agents)}
        rewards = dict(zip(agents, reward[0].tolist()))
        terminateds = {**dict.fromkeys(agents, term), "__all__": term}
        truncateds = {**dict.fromkeys(agents, trunc), "__all__": trunc}
        if term or trunc:
            self.agents = []
        return observations, rewards, terminateds, truncateds, infos

    def state(self) -> np.ndarray:
        """Every feature field in declared order (F,) float32."""
        return self.env.global_state()[0]


def env_name(env_id: str, overrides: Mapping[str, Any] | None = None) -> str:
    """The Tune name :func:`register_env` uses: ``evprice/<env_id>`` plus the sorted overrides."""
    items = sorted((overrides or {}).items())
    return f"evprice/{env_id}" + "".join(f",{k}={v!r}" for k, v in items)


def register_env(env_id: str, overrides: Mapping[str, Any] | None = None) -> str:
    """Register scenario ``env_id`` with config ``overrides`` with Tune; returns its name, for
    ``config.environment(name)``. Register before the algorithm is built (before or after
    ``ray.init``); the scenario and overrides are checked here, once."""
    from ray.tune.registry import register_env as tune_register_env

    make_env(env_id, 1, **(overrides or {}))  # fail here, with evprice's message, on a bad id or value
    env_config = {"env_id": env_id, "overrides": dict(overrides or {})}
    name = env_name(env_id, overrides)
    tune_register_env(name, lambda _ctx: RllibMarketEnv(env_config))
    return name


def ppo_config(
    env_id: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    shared_policy: bool = True,
    num_env_runners: int = 0,
    seed: int = 0,
    num_envs_per_env_runner: int = 1,
    train_batch_size: int = 4000,
    minibatch_size: int = 256,
    num_epochs: int = 10,
    lr: float = 3e-4,
    gamma: float = 0.99,
    lambda_: float = 0.95,
    entropy_coeff: float = 0.0,
    hidden_sizes: tuple[int, ...] = (64, 64),
) -> PPOConfig:
    """A multi-agent PPO config (new API stack, torch, CPU) on scenario ``env_id``.

    Args:
        env_id: registered scenario id.
        overrides: its config overrides.
        shared_policy: True: one policy (module ``"shared"``) prices for every station
            (parameter sharing); False: one independent policy per station, named by the
            station's id.
        num_env_runners: remote sampling actors (0: sample in the driver process).
        seed: seeds RLlib (torch) and the environments (runner ``k`` resets with its own seed
            derived from it); the same seed and settings give the same training run.
        num_envs_per_env_runner: environments each runner steps together (RLlib's gymnasium
            vector env; each a one-member market). More of them amortise RLlib's per-step
            overhead: on LogitBertrand-v0 four halve the sampling time of an iteration.
        train_batch_size: env steps per training iteration (for all runners together).
        minibatch_size: SGD minibatch, in agent steps.
        num_epochs: passes over each training batch.
        lr, gamma, lambda_, entropy_coeff: PPO's learning rate, discount, GAE lambda and
            entropy bonus.
        hidden_sizes: the policy's and value function's hidden layers.
    """
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    if isinstance(num_env_runners, bool) or not isinstance(num_env_runners, int) or num_env_runners < 0:
        raise ValueError(f"num_env_runners={num_env_runners!r} is invalid: expected an integer >= 0")
    env_config = {"env_id": env_id, "overrides": dict(overrides or {})}
    agent_ids = list(make_env(env_id, 1, **env_config["overrides"]).agent_ids)  # validates id and overrides
    if shared_policy:
        policies = [SHARED_POLICY_ID]
        mapping_fn = _map_to_shared
    else:
        policies = agent_ids
        mapping_fn = _map_to_own
    return (
        PPOConfig()
        .environment(env=RllibMarketEnv, env_config=env_config)
        .framework("torch")
        .env_runners(
            num_env_runners=num_env_runners,
            num_envs_per_env_runner=num_envs_per_env_runner,
            num_cpus_per_env_runner=1,
        )
        .learners(num_learners=0)
        .multi_agent(policies=set(policies), policy_mapping_fn=mapping_fn)
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(rl_module_specs={p: RLModuleSpec() for p in policies}),
            model_config=DefaultModelConfig(fcnet_hiddens=list(hidden_sizes), vf_share_layers=False),
        )
        .training(
            train_batch_size_per_learner=train_batch_size,
            minibatch_size=minibatch_size,
            num_epochs=num_epochs,
            lr=lr,
            gamma=gamma,
            lambda_=lambda_,
            entropy_coeff=entropy_coeff,
        )
        .debugging(seed=seed)
    )


def _map_to_shared(agent_id: str, episode: Any = None, **kwargs: Any) -> str:
    return SHARED_POLICY_ID


def _map_to_own(agent_id: str, episode: Any = None, **kwargs: Any) -> str:
    return agent_id
