"""evprice: pricing public EV charging stations with reinforcement learning."""

__version__ = "0.1.0"
