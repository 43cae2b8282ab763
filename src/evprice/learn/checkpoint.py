"""Checkpoints: written atomically, read with a clear error when damaged.

A checkpoint is one ``torch.save`` file holding plain data and tensors only (loaded with
``weights_only=True``): the format tag and the trainer that wrote it (``kind``: ``"ppo"``
or ``"ccem"``), the environment id and overrides, the trainer's config, counters, and
the trainer's own states (:data:`REQUIRED`). It is written to a temporary file in the same folder, flushed
to disk and renamed over the old one, so a crash mid-write leaves the previous checkpoint
intact.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

FORMAT = "evprice-checkpoint"
VERSION = 1
COMMON = ("format", "version", "kind", "env_id", "overrides", "n_agents", "observation_size", "config", "env_steps")
REQUIRED = {
    "ppo": COMMON + ("update", "actor", "critic", "optimizer", "obs_norm", "state_norm", "reward_scaler", "generator"),
    "ccem": COMMON + ("episodes", "model", "kappa", "replay", "generator", "torch_rng", "numpy_rng"),
}
"""Keys every checkpoint of each kind holds."""


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, damaged or of another format."""


def save_checkpoint(path: str | Path, payload: dict[str, Any], kind: str = "ppo") -> Path:
    """Write ``payload`` (plus the format tag and ``kind``) to ``path`` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format": FORMAT, "version": VERSION, "kind": kind, **payload}, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


SEED_FOLDER = "seed_"
"""A run of K seeds (``evprice train ... --seeds K``) keeps seed ``s``'s run folder in ``RUN/seed_<s>``."""


def seed_folders(path: str | Path) -> dict[int, Path]:
    """``{seed: folder}`` of a run of several seeds (``RUN/seed_<s>/``), in seed order; empty
    for anything else."""
    p = Path(path)
    if not p.is_dir():
        return {}
    found = {}
    for child in p.iterdir():
        tail = child.name.removeprefix(SEED_FOLDER)
        if child.is_dir() and child.name.startswith(SEED_FOLDER) and tail.isdigit():
            found[int(tail)] = child
    return dict(sorted(found.items()))


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file, or a run folder holding ``checkpoints/last.pt``.

    A folder of seed runs (:func:`seed_folders`) is refused with a message naming its seed
    folders: a checkpoint is one seed's policy."""
    p = Path(path)
    folders = seed_folders(p)
    if folders and not (p / "checkpoints").is_dir():
        names = ", ".join(f.name for f in folders.values())
        raise CheckpointError(
            f"{str(path)!r} is a run of {len(folders)} seeds ({names}): give one seed's folder, "
            f"e.g. {str(next(iter(folders.values())))!r}"
        )
    if p.is_dir():
        p = p / "checkpoints" / "last.pt" if (p / "checkpoints").is_dir() else p / "last.pt"
    if not p.is_file():
        raise CheckpointError(
            f"checkpoint {str(path)!r} not found: expected a .pt file or a run folder from evprice train"
        )
    return p


def load_checkpoint(path: str | Path, map_location: str = "cpu", kind: str | None = "ppo") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; raises :class:`CheckpointError`.

    ``kind`` is the trainer expected (``None``: any)."""
    p = resolve_checkpoint(path)
    try:
        data = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated zip, bad pickle, wrong file: all mean "damaged"
        raise CheckpointError(
            f"checkpoint {str(p)!r} is damaged or not a checkpoint ({type(err).__name__}: {err}); "
            "use an earlier checkpoint or train again"
        ) from err
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {str(p)!r} is not an evprice checkpoint (format tag missing)")
    if data.get("kind") not in REQUIRED or (kind is not None and data["kind"] != kind):
        raise CheckpointError(
            f"checkpoint {str(p)!r} was written by the {data.get('kind')!r} trainer; expected {kind!r}"
        )
    if data.get("version") != VERSION:
        version = data.get("version")
        raise CheckpointError(f"checkpoint {str(p)!r} has version {version!r}; this evprice reads {VERSION}")
    missing = [k for k in REQUIRED[data["kind"]] if k not in data]
    if missing:
        raise CheckpointError(f"checkpoint {str(p)!r} is incomplete: missing {missing}")
    return data
