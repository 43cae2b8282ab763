"""Named, independent random streams derived from one seed.

Seed once with :func:`spawn_streams`; each named stream is a ``numpy.random.Generator`` on
its own child of a ``SeedSequence``. The child is keyed by a stable hash of the stream's
*name*, not by its position, so adding a new stream never changes the draws of the others.
Library code draws only from the generator it is handed; it never touches global state.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np


def stream_key(name: str) -> int:
    """Stable 32-bit key of a stream name (crc32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


def spawn_streams(seed: int | None, names: Sequence[str]) -> dict[str, np.random.Generator]:
    """One generator per name, all derived from ``seed``.

    ``seed=None`` draws fresh entropy from the operating system (not reproducible).
    The same ``seed`` and name give the same stream on every platform and call.
    """
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed={seed!r} is invalid: expected a non-negative integer or None")
    if len(set(names)) != len(names):
        raise ValueError(f"stream names must be unique, got {list(names)}")
    root = np.random.SeedSequence(None if seed is None else int(seed))
    return {
        name: np.random.Generator(np.random.PCG64(np.random.SeedSequence(root.entropy, spawn_key=(stream_key(name),))))
        for name in names
    }
