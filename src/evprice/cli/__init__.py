"""``evprice``: the command line.

    evprice rollout  [--env ID] [--policy NAME] [--price P] [--markup M] [--episodes N]
                     [--seed S] [--config FILE.yaml] [--set key=value ...] [--json]
    evprice evaluate --env ID --policy NAME [the same options]     (adds 95% CIs and Delta)
    evprice theory   [--env ID] [--config FILE.yaml] [--set key=value ...] [--leader ID]
                     [--json | --markdown]
    evprice envs
    evprice config   [--env ID] [--config FILE.yaml] [--set key=value ...]
    evprice grid powerflow [--feeder case33bw|doc2] [--solver fast|pandapower]
                     [--add-load BUS:KW[:KVAR] ...] [--json]
    evprice train mappo|ippo --env ID [--steps N] [--seed S] [--seeds K | --seed-list 0,3,7]
                     [--out DIR] [--set key=value ...] [--ppo key=value ...] [--resume CHECKPOINT]
    evprice train mappo-lag|ippo-lag --env ID --cost-limit L [the same options]  (Lagrangian: cost within L)
    evprice evaluate --checkpoint DIR/checkpoints/last.pt [--episodes N] [--seed S] [--json]
    evprice train rllib --env ID [--steps N] [--num-env-runners K] [--address ray://...] [--independent]
    evprice train ccem [--env CoupledNetworkPeak-v0] [--steps 600] [--cost-limit 0.3] [--unconstrained]
    evprice replay RUN_DIR [--out FILE.gif|.mp4] [--seed S] [--fps N]   (or --policy NAME --env ID)
    evprice experiment NAME [--seeds K] [--steps N] [--episodes E] [--out DIR] [--env ID] [--set key=value ...]
                     [--workers N] [--address auto|HOST:PORT|ray://HOST:PORT] [--reuse]

Overrides come from ``--config`` (a YAML mapping of config keys; it may also name the
``env``), then from each ``--set key=value`` (the value is read as YAML: ``4``,
``[2, 6]``, ``null``). A bad key or value stops the command with a message that names it.
"""

from __future__ import annotations

from evprice.cli.base import main

# isort: split
from evprice.cli import run, scenario, tools, train  # noqa: F401  (each module registers its commands on main)

__all__ = ["main"]
