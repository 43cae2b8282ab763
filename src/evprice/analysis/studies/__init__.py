"""The research experiments of ``evprice experiment`` (registered in :mod:`evprice.analysis.experiments`).

* ``coordination``: team vs individual reward, MAPPO, on ``LogitBertrand-v0`` and
  ``PublicCharging-v0``; learned prices against the Bertrand-Nash and joint-profit prices,
  and Delta where the environment defines it;
* ``observability``: partial vs full observation (rivals' prices and status), individual
  rewards, the same training budget;
* ``capacity``: chargers per station on ``PublicCharging-v0``: learned prices and
  blocking against the capacity-aware Nash prices;
* ``stackelberg``: simultaneous pricing vs a leader that commits its price a period ahead
  (a level-2 agent whose commitment the followers observe), individual rewards, partial
  observability, on ``LogitBertrand-v0``; learned prices and profits against the
  Bertrand-Nash and Stackelberg solutions;
* ``collusion-qlearning``: Calvano et al. (2020)'s tabular Q-learning sessions on
  ``LogitBertrand-v0`` (:mod:`evprice.analysis.qlearning`);
* ``safety``: safe pricing on ``CoupledNetworkPeak-v0``: the constrained and unconstrained
  CEM planners, MAPPO-Lagrangian and MAPPO, and fixed-price baselines on the same evaluation
  days, and the cost-reward frontier over several limits (:mod:`evprice.analysis.studies.safety`);
* ``communication``: no talk vs cheap talk vs price announcements vs a mediator (profit- or
  welfare-maximising), individual rewards, on ``LogitBertrand-v0`` and ``PublicCharging-v0``;
  prices against Nash and joint, and what the signals carry about the next prices
  (:mod:`evprice.analysis.studies.communication`).

``coordination``, ``observability`` and ``capacity`` run their charging-market arms on
``PublicCharging-v0`` unless ``settings.env`` names another registered environment (for
example ``GridCharging-v0``: the reports then add the feeder's voltage and line loading
over an episode, and the periods out of limits).

Training arms use MAPPO (:func:`evprice.learn.trainer.train`) with the trainer's defaults,
``total_steps`` = the experiment's steps and ``seed`` = the arm's seed; evaluation runs
``episodes`` episodes of the deterministic policy on seeds of its own (10,000 + seed).
"""

from __future__ import annotations

# Imported in the order the experiments are listed: each module registers its own.
from evprice.analysis.studies.collusion import COLLUSION

# isort: split
from evprice.analysis.studies.coordination import COORDINATION, OBSERVABILITY

# isort: split
from evprice.analysis.studies.stackelberg import STACKELBERG, reaction_curve

# isort: split
from evprice.analysis.studies.arms import ARM_TORCH_THREADS, DEFAULT_STEPS, EVAL_SEED, episode_path, train_arm
from evprice.analysis.studies.capacity import CAPACITY

# isort: split
from evprice.analysis.studies.safety import SAFETY

# isort: split
from evprice.analysis.studies.communication import COMMUNICATION

__all__ = [
    "ARM_TORCH_THREADS",
    "CAPACITY",
    "COLLUSION",
    "COMMUNICATION",
    "COORDINATION",
    "DEFAULT_STEPS",
    "EVAL_SEED",
    "OBSERVABILITY",
    "SAFETY",
    "STACKELBERG",
    "episode_path",
    "reaction_curve",
    "train_arm",
]
