"""Coordination protocols between the stations: their settings and their pure rules.

A protocol is how stations may talk before they price (:mod:`evprice.envs.couplings` holds
each one as a coupling; ``docs/coordination.md`` describes them):

``none`` (default)
    the stations only see what the market shows (prices, under ``observability="full"``).
``cheap_talk``
    each station's action has ``message_dim`` more values in [-1, 1], its message; the
    others observe it in the next period (a public feature). Messages cost nothing and bind
    nothing. With ``n_symbols >= 2`` each value is one of ``n_symbols`` evenly spaced levels
    (:func:`quantise_message`): a discrete alphabet.
``announcement``
    each station's action has one more value: the price it announces for the next period,
    observed by every station; the price it then posts may differ, at a cost of
    ``deviation_cost`` reward per price range of deviation (:func:`deviation_penalty`).
``mediator``
    an upper-level agent (``mediator``, level 2) that sees every station's status and
    profit window and recommends each station's price for the next period; the stations
    observe the recommendations and are free to ignore them. Its reward is
    ``mediator_reward``: the market's profit, the welfare (consumer surplus plus profit) or
    minus the grid's constraint cost.

The field declarations live here once, for every config that offers protocols
(``MarketConfig`` and ``LogitBertrandConfig``).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from evprice.core.config import invalid
from evprice.core.declared import choice, config_field, integer, number

PROTOCOLS = ("none", "cheap_talk", "announcement", "mediator")
"""The coordination protocols (``none``: the market as it is)."""
MEDIATOR_REWARDS = ("profit", "welfare", "grid")
"""What a mediator maximises: the stations' total profit, the welfare, or minus the grid cost."""
MAX_MESSAGE_DIM = 16
MAX_SYMBOLS = 256
MAX_DEVIATION_COST = 100.0
PROTOCOL_FIELDS = ("protocol", "message_dim", "n_symbols", "deviation_cost", "mediator_reward")
"""The protocol's config fields, in declared order."""
MEDIATOR_ID = "mediator"
"""The mediator agent's id."""

_protocol = partial(config_field, section="coordination")


def protocol_field() -> Any:
    return _protocol(
        "none",
        "-",
        "how stations talk before they price: 'none', 'cheap_talk' (messages), 'announcement' (the next "
        "price, announced) or 'mediator' (an upper-level agent recommends prices); see docs/coordination.md",
        choice(PROTOCOLS),
    )


def message_dim_field() -> Any:
    return _protocol(
        1,
        "1",
        "cheap_talk: values in [-1, 1] per message (extra action columns of each station)",
        integer(
            1,
            MAX_MESSAGE_DIM,
            reason=f"each value is an action column and an observed feature field; {MAX_MESSAGE_DIM} is ample",
            used_when=("protocol", ("cheap_talk",)),
            unused_why="only cheap talk sends messages",
        ),
    )


def n_symbols_field() -> Any:
    return _protocol(
        0,
        "1",
        "cheap_talk: 0 = continuous messages; k >= 2 = each value is one of k evenly spaced levels in [-1, 1]",
        integer(
            0,
            MAX_SYMBOLS,
            reason=f"0 (continuous) or an alphabet of 2 to {MAX_SYMBOLS} symbols",
            used_when=("protocol", ("cheap_talk",)),
            unused_why="only cheap talk sends messages",
        ),
    )


def deviation_cost_field() -> Any:
    return _protocol(
        0.0,
        "reward per price range",
        "announcement: reward a station loses in a period for posting a price away from its announcement, "
        "per (price_max - price_min) of deviation; 0 = announcements bind nothing",
        number(
            0.0,
            MAX_DEVIATION_COST,
            reason="a reward is about 1 a period at most; 100 makes any deviation ruinous",
            used_when=("protocol", ("announcement",)),
            unused_why="only announcements can be deviated from",
        ),
    )


def mediator_reward_field() -> Any:
    return _protocol(
        "profit",
        "-",
        "mediator: what it maximises: 'profit' (the stations' total), 'welfare' (consumer surplus + profit; "
        "needs an outside option) or 'grid' (minus the constraint cost; needs a grid-coupled scenario)",
        choice(MEDIATOR_REWARDS, used_when=("protocol", ("mediator",)), unused_why="only a mediator has a reward"),
    )


def check_protocol(cfg: Any) -> None:
    """The rules between the protocol's fields (raise ``ConfigError`` naming the field)."""
    if cfg.n_symbols == 1:
        raise invalid("n_symbols", cfg.n_symbols, f"0 (continuous messages) or an integer in [2, {MAX_SYMBOLS}]")
    if cfg.protocol == "mediator" and MEDIATOR_ID in cfg.agent_ids:
        raise invalid("protocol", cfg.protocol, f"another protocol: a station is named {MEDIATOR_ID!r}")
    if cfg.protocol == "mediator" and cfg.leader is not None:
        raise invalid(
            "protocol",
            cfg.protocol,
            f"'none', 'cheap_talk' or 'announcement' with leader={cfg.leader!r}: the leader is a level-2 agent "
            "already, and a mediator cannot stand over it",
        )


def quantise_message(action: np.ndarray, n_symbols: int) -> np.ndarray:
    """The message values that actions in [-1, 1] send (any shape).

    ``n_symbols = 0``: the actions themselves. ``n_symbols = k >= 2``: symbol
    ``s = min(floor((a + 1) / 2 * k), k - 1)`` (k equal slices of [-1, 1]), sent as its level
    ``-1 + 2 s / (k - 1)`` (so -1 and 1 are the first and last symbols).
    """
    if n_symbols == 0:
        return action
    return -1.0 + 2.0 * message_symbol(action, n_symbols) / (n_symbols - 1)


def message_symbol(action: np.ndarray, n_symbols: int) -> np.ndarray:
    """The symbol (0 .. n_symbols - 1, int) an action in [-1, 1] sends (:func:`quantise_message`)."""
    return np.minimum(np.floor((np.asarray(action) + 1.0) * 0.5 * n_symbols), n_symbols - 1).astype(np.int64)


def deviation_penalty(
    posted_per_kwh: np.ndarray,
    announced_per_kwh: np.ndarray,
    price_min: np.ndarray,
    price_max: np.ndarray,
    cost: float,
) -> np.ndarray:
    """(B, N) reward lost for posting ``posted`` (B, N) after announcing ``announced`` (B, N),
    currency/kWh: ``cost * |posted - announced| / (price_max - price_min)``."""
    return cost * np.abs(posted_per_kwh - announced_per_kwh) / (price_max - price_min)
