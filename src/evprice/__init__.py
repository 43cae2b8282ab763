"""evprice: pricing public EV charging stations with reinforcement learning.

>>> import evprice
>>> env = evprice.make("PublicCharging-v0")           # PettingZoo ParallelEnv
>>> vec = evprice.make_vec("PublicCharging-v0", 64)   # batched, auto-resetting
>>> gym_env = evprice.make_gym("CoupledNetwork-v0")   # Gymnasium, one central agent
>>> sb3 = evprice.make_sb3_vec("PublicCharging-v0", 8)  # SB3 VecEnv: a sub-env per station  # doctest: +SKIP
"""

from evprice.api import list_envs, make, make_gym, make_sb3_vec, make_scenario, make_vec
from evprice.core.actions import ActionError
from evprice.core.config import ConfigError

__version__ = "0.1.0"

__all__ = [
    "ActionError",
    "ConfigError",
    "__version__",
    "list_envs",
    "make",
    "make_gym",
    "make_sb3_vec",
    "make_scenario",
    "make_vec",
]
