"""Registered scenarios with versioned ids, e.g. ``"PublicCharging-v0"``.

A spec binds an id to a config class, the id's own defaults (applied before the user's
overrides) and what the environment is composed of: the couplings the market gets
(:mod:`evprice.envs.coupling`), or for a scenario whose config is not the market's own
(``LogitBertrand-v0``) a factory that makes one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evprice.core.config import ConfigError


@dataclass(frozen=True)
class EnvSpec:
    """One registered scenario.

    Attributes:
        env_id: versioned id (``Name-vN``).
        description: one line for ``evprice envs``.
        config_cls: the typed config; must provide ``from_overrides``, ``field_names``,
            ``to_dict`` and dataclass fields with ``unit`` and ``doc`` metadata.
        couplings: the couplings composed onto the market, in order (factories called with
            the environment; :class:`~evprice.envs.coupling.Coupling` subclasses are).
        factory: ``factory(config, num_envs, env_id, scenarios=None, couplings=())`` returns the batched
            environment; None (the usual case): :class:`~evprice.envs.MarketEnv` with
            ``couplings``.
        defaults: overrides this scenario applies before the user's.
    """

    env_id: str
    description: str
    config_cls: type
    couplings: tuple[Callable[..., Any], ...] = ()
    factory: Callable[..., Any] | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def make(self, config: Any, num_envs: int = 1, scenarios: int | None = None, couplings: Sequence[Any] = ()) -> Any:
        """The batched environment of ``config`` (made by :meth:`make_config`) with ``num_envs``
        members (``scenarios``: common random numbers, see :class:`~evprice.envs.MarketEnv`),
        composed of the scenario's couplings and then ``couplings``."""
        if self.factory is not None:
            return self.factory(config, num_envs, self.env_id, scenarios=scenarios, couplings=tuple(couplings))
        from evprice.envs.market_env import MarketEnv  # the assembly sits above the registry

        return MarketEnv(config, num_envs, self.env_id, scenarios=scenarios, couplings=(*self.couplings, *couplings))

    def make_config(self, overrides: Mapping[str, Any] | None = None) -> Any:
        """The scenario's config: its defaults, then ``overrides``.

        Keys may be flat, dotted or in sections (:mod:`evprice.core.overrides`). A default that
        the overridden config would not use (a driver model's fields once an override switches
        the model) is dropped, so it cannot be refused for the user.
        """
        self._check_keys_belong_here(_leaf_keys(overrides or {}, self.config_cls.field_names()))
        overrides = self.config_cls.flat_overrides(overrides)
        values = {**self.defaults, **overrides}
        unused = getattr(self.config_cls, "unused_fields", None)
        if unused is not None:
            for key in unused(values):
                if key in self.defaults and key not in overrides:
                    del values[key]
        return self.config_cls.from_overrides(values)

    def _check_keys_belong_here(self, keys: Sequence[str]) -> None:
        """A key of other scenarios' configs only is named as theirs, not matched to a look-alike of ours."""
        own = set(self.config_cls.field_names())
        for key in keys:
            if key in own:
                continue
            owners = [s.env_id for s in _REGISTRY.values() if key in s.config_cls.field_names()]
            if owners:
                raise ConfigError(
                    f"unknown key {key!r} for {self.env_id}: it is a key of {', '.join(owners)}, "
                    f"not of {self.env_id}: choose one of those environments, or remove the key"
                )


def _leaf_keys(overrides: Mapping[str, Any], own: Sequence[str]) -> list[str]:
    """The field each key names: a dotted key's last part, a section mapping's keys."""
    leaves: list[str] = []
    for key, value in overrides.items():
        if key not in own and isinstance(value, Mapping):
            leaves.extend(str(k) for k in value)
        else:
            leaves.append(str(key).rpartition(".")[2])
    return leaves


_REGISTRY: dict[str, EnvSpec] = {}


def register(spec: EnvSpec) -> None:
    if spec.env_id in _REGISTRY:
        raise ValueError(f"environment id {spec.env_id!r} is already registered")
    _REGISTRY[spec.env_id] = spec


def registered_ids() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def spec(env_id: str) -> EnvSpec:
    try:
        return _REGISTRY[env_id]
    except KeyError:
        raise ConfigError(f"unknown environment id {env_id!r}; registered: {', '.join(_REGISTRY)}") from None


def make_env(env_id: str, num_envs: int = 1, couplings: Sequence[Any] = (), **overrides: Any) -> Any:
    """The batched environment ``env_id`` with ``num_envs`` members and config ``overrides``;
    ``couplings`` (:mod:`evprice.envs.coupling` factories) are composed after the scenario's own."""
    s = spec(env_id)
    return s.make(s.make_config(overrides), num_envs, couplings=couplings)
