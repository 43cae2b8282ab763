"""Read-only array fields for frozen dataclasses shared by many environments."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np


def freeze_array_fields(instance: Any) -> None:
    """Replace every numpy-array field of the dataclass ``instance`` by a read-only copy.

    Call it at the end of ``__post_init__``: the caller's arrays stay the caller's, and no
    user of the (shared) instance can change it in place.
    """
    for f in fields(instance):
        value = getattr(instance, f.name)
        if isinstance(value, np.ndarray):
            frozen = value.copy()
            frozen.flags.writeable = False
            object.__setattr__(instance, f.name, frozen)
