"""Learning: MAPPO / IPPO (and their Lagrangian forms) for the stations, and the safe
model-based planner (PyTorch; the only package importing torch).

* :mod:`~evprice.learn.config`: :class:`PPOConfig`, every setting documented;
* :mod:`~evprice.learn.trainer`: :func:`train`, the loop (rollout, GAE, PPO update, logs,
  evaluation, checkpoints);
* :mod:`~evprice.learn.gae`, :mod:`~evprice.learn.ppo`: the pure functions of the update;
* :mod:`~evprice.learn.lagrange`: MAPPO-/IPPO-Lagrangian's constraint costs, multipliers
  (plain and PID) and combined advantage;
* :mod:`~evprice.learn.networks`, :mod:`~evprice.learn.normalise`: actor, critic, normalisers;
* :mod:`~evprice.learn.checkpoint`: atomic checkpoints, clear errors on damaged ones;
* :mod:`~evprice.learn.policy`: a trained actor as a policy (``evprice evaluate --checkpoint``).

``pip install evprice[learn]`` (on a CPU machine install ``torch==2.13.0`` first).
"""

from evprice.learn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from evprice.learn.config import PPOConfig
from evprice.learn.policy import TrainedPolicy, evaluate_policy, load_policy
from evprice.learn.trainer import train

__all__ = [
    "CheckpointError",
    "PPOConfig",
    "TrainedPolicy",
    "evaluate_policy",
    "load_checkpoint",
    "load_policy",
    "save_checkpoint",
    "train",
]
