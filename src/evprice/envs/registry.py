"""Registered scenarios with versioned ids, e.g. ``"PublicCharging-v0"``.

A spec binds an id to a config class, the id's own defaults (applied before the user's
overrides) and a factory that assembles the batched environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
        factory: ``factory(config, num_envs, env_id)`` returns the batched environment.
        defaults: overrides this scenario applies before the user's.
    """

    env_id: str
    description: str
    config_cls: type
    factory: Callable[..., Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def make_config(self, overrides: Mapping[str, Any] | None = None) -> Any:
        """The scenario's config: its defaults, then ``overrides``.

        A default that the overridden config would not use (a driver model's fields once an
        override switches the model) is dropped, so it cannot be refused for the user.
        """
        overrides = dict(overrides or {})
        self._check_keys_belong_here(overrides)
        values = {**self.defaults, **overrides}
        unused = getattr(self.config_cls, "unused_fields", None)
        if unused is not None:
            for key in unused(values):
                if key in self.defaults and key not in overrides:
                    del values[key]
        return self.config_cls.from_overrides(values)

    def _check_keys_belong_here(self, overrides: Mapping[str, Any]) -> None:
        """A key of other scenarios' configs only is named as theirs, not matched to a look-alike of ours."""
        own = set(self.config_cls.field_names())
        for key in overrides:
            if key in own:
                continue
            owners = [s.env_id for s in _REGISTRY.values() if key in s.config_cls.field_names()]
            if owners:
                raise ConfigError(
                    f"unknown key {key!r} for {self.env_id}: it is a key of {', '.join(owners)}, "
                    f"not of {self.env_id}: choose one of those environments, or remove the key"
                )


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


def make_env(env_id: str, num_envs: int = 1, **overrides: Any) -> Any:
    """The batched environment ``env_id`` with ``num_envs`` members and config ``overrides``."""
    s = spec(env_id)
    return s.factory(s.make_config(overrides), num_envs, env_id)
