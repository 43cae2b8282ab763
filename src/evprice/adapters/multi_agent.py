"""What the dict-keyed multi-agent views (PettingZoo, RLlib) share: reading every agent's
action once, and one info contract.

* :class:`AgentActions` reads ``{agent: action}`` into the prices of a one-member
  :class:`~evprice.envs.MarketEnv`: each action checked once
  (:func:`~evprice.core.actions.check_single_action`) and mapped in Python floats exactly as
  :func:`~evprice.core.actions.scale_action` maps it, for
  :meth:`~evprice.envs.MarketEnv.step_mapped`; under a coordination protocol every agent's
  action is ``(A,)`` (``env.action_names``; the columns past an agent's own are padding,
  ignored, as the observations are padded to one size) and the protocol's columns go along.
* :func:`agent_infos` is the info contract: each agent's dict holds its own value of every
  per-station key (:data:`~evprice.envs.STATION_INFO_KEYS`) and every group of system-wide
  values the scenario reports (``market``, and ``grid`` in a grid-coupled scenario), as plain
  Python numbers.
* :class:`LiveAgentSnapshots` gives such a view ``snapshot()`` / ``restore()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from evprice.core.actions import ActionError, check_actions, check_single_action, scale_action, scale_single_action
from evprice.envs.market_env import STATION_INFO_KEYS, MarketEnv
from evprice.envs.snapshot import EnvSnapshot

_COUNTS = frozenset({"admitted", "blocked"})


class AgentActions:
    """The (1, N) prices of one step from a dict of the agents' actions in [-1, 1].

    Args:
        env: the one-member environment; its agents are its stations, in order.
    """

    def __init__(self, env: MarketEnv) -> None:
        self.env = env
        self.agents = list(env.agent_ids)
        self._agent_set = frozenset(self.agents)
        self._what = [f"action of {a}" for a in self.agents]
        self._price = np.zeros((1, len(self.agents)))  # reused: the world copies what it is given
        self._low = [float(x) for x in env.params.price_min]
        self._high = [float(x) for x in env.params.price_max]

    def prices(self, actions: Any) -> np.ndarray:
        """(1, N) prices in currency/kWh for ``actions``, one ``(1,)`` action (or a number) per
        agent; every agent must act, and no other key may appear (``ActionError`` otherwise).

        The array is reused by the next call: pass it straight to ``step_mapped``."""
        self._check_keys(actions)
        price, low, high = self._price, self._low, self._high
        for i, a in enumerate(self.agents):
            price[0, i] = scale_single_action(check_single_action(actions[a], what=self._what[i]), low[i], high[i])
        return price

    def read(self, actions: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """``(prices (1, N_stations), actions (1, N, A) in [-1, 1] or None)`` for
        :meth:`~evprice.envs.MarketEnv.step_mapped`: :meth:`prices` without a protocol; under
        one, each agent's ``(A,)`` action checked and clipped, and its stations' prices."""
        env = self.env
        if env.action_size == 1 and env.n_agents == env.n_stations:
            return self.prices(actions), None
        self._check_keys(actions)
        width = env.action_size
        full = np.empty((1, len(self.agents), width))
        for i, a in enumerate(self.agents):
            x = actions[a]
            if type(x) is np.ndarray and x.shape == (width,) and x.dtype.kind == "f":
                full[0, i] = x  # the common case, checked for NaN / inf below at once
            else:
                full[0, i] = check_actions(x, (width,), what=self._what[i])
        if not np.isfinite(full).all():
            i = int(np.argwhere(~np.isfinite(full[0]))[0][0])
            check_actions(full[0, i], (width,), what=self._what[i])  # raises, naming the agent and the value
        full = np.minimum(np.maximum(full, -1.0), 1.0)
        return scale_action(full[:, : env.n_stations, 0], env.params.price_min, env.params.price_max), full

    def _check_keys(self, actions: Any) -> None:
        if not isinstance(actions, Mapping):
            raise ActionError(f"actions must be a dict keyed by agent id, got {type(actions).__name__}")
        if actions.keys() != self._agent_set:
            unknown = set(actions) - self._agent_set
            if unknown:
                raise ActionError(
                    f"actions for unknown or finished agents {sorted(unknown)}; live agents: {self.agents}"
                )
            missing = next(a for a in self.agents if a not in actions)
            raise ActionError(f"no action for {missing}; every live agent must act each step")


class LiveAgentSnapshots:
    """``snapshot()`` / ``restore()`` for a view over a one-member ``self.env`` whose live agents
    are ``self.agents`` (all of ``self.possible_agents`` until the episode ends)."""

    env: MarketEnv
    agents: list[str]
    possible_agents: list[str]

    def snapshot(self) -> EnvSnapshot:
        """The whole state of the environment as an immutable value (:mod:`evprice.envs.snapshot`)."""
        return self.env.snapshot()

    def restore(self, snapshot: EnvSnapshot) -> None:
        """Put a :meth:`snapshot` back; the agents are live unless it was taken at the episode's end."""
        self.env.restore(snapshot)
        self.agents = [] if self.env.world.done else list(self.possible_agents)


def agent_infos(agents: list[str], info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-agent info dicts of plain Python numbers from the batched (1, N) arrays.

    Counts stay ints when the market counts EVs, and floats when it counts expected EVs
    (``demand="expected"``). Groups of system-wide values (``info["market"]``, and
    ``info["grid"]`` in a grid-coupled market) go to every agent, each (1,) entry as a
    number and each (1, N) entry as the agent's own; each agent gets its own copy of each group.
    An agent that is not a station (a mediator) has no per-station keys and sees each
    (1, N) entry whole.
    """
    columns = []  # per key, the agents' Python numbers
    for k in STATION_INFO_KEYS:
        entry = info[k]
        row = entry.tolist()[0]  # floats already for a float array, ints for an integer one
        if entry.dtype.kind != "f" and not (k in _COUNTS and entry.dtype.kind in "iu"):
            row = [float(x) for x in row]
        columns.append(row)
    groups = []  # per group: its entries in order, (1,) ones as numbers, and its (1, N) entries' lists
    for name, group in info.items():
        if type(group) is dict:
            shared, own = {}, []
            for k, v in group.items():
                shared[k] = x = (v if type(v) is np.ndarray else np.asarray(v)).tolist()[0]
                if type(x) is list:
                    own.append((k, x))
            groups.append((name, shared, own))
    out = {}
    rows = list(zip(*columns))
    for i, a in enumerate(agents):
        d: dict[str, Any] = dict(zip(STATION_INFO_KEYS, rows[i])) if i < len(rows) else {}
        for name, shared, own in groups:  # a copy per agent: each agent's dicts are its own
            g = shared.copy()
            for k, x in own:
                if i < len(x):  # a station's own value; an agent that is not a station keeps the list
                    g[k] = x[i]
            d[name] = g
        out[a] = d
    return out
