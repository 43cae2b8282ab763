"""Checkpoints: written atomically, checked on load, read with a clear error when damaged.

A checkpoint holds plain data and tensors only (loaded with ``weights_only=True``): the
format tag and the trainer that wrote it (``kind``: ``"ppo"`` or ``"ccem"``), the
environment id and overrides, the trainer's config, counters, and the trainer's own states
(:data:`REQUIRED`).

On disk it is the line :data:`MAGIC`, the SHA-256 of the rest in hex and a newline, then
the ``torch.save`` bytes. Loading recomputes the digest, so a changed byte anywhere is a
:class:`CheckpointError` naming the file, never a silently different policy; every
floating-point tensor loaded must be finite. Files written before the digest (a plain
``torch.save`` file) still load, with the other checks.

It is written to a temporary file in the same folder, flushed to disk and renamed over the
old one, so a crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import hashlib
import io
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


MAGIC = b"evprice-checkpoint sha256\n"
"""First line of a checkpoint file; the next line is the SHA-256 of the payload that follows."""


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, damaged or of another format."""


def save_checkpoint(path: str | Path, payload: dict[str, Any], kind: str = "ppo") -> Path:
    """Write ``payload`` (plus the format tag and ``kind``) to ``path`` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        buffer = io.BytesIO()
        torch.save({"format": FORMAT, "version": VERSION, "kind": kind, **payload}, buffer)
        body = buffer.getvalue()
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + hashlib.sha256(body).hexdigest().encode("ascii") + b"\n" + body)
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
    body = _verified_body(p)
    try:
        data = torch.load(io.BytesIO(body), map_location=map_location, weights_only=True)
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
    bad = _first_non_finite(data)
    if bad is not None:
        raise CheckpointError(f"checkpoint {str(p)!r} holds non-finite numbers in {bad}; use an earlier checkpoint")
    return data


def _verified_body(path: Path) -> bytes:
    """The ``torch.save`` bytes of a checkpoint file, its digest checked (files without one pass)."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"checkpoint {str(path)!r} cannot be read: {err.strerror}") from None
    if not raw.startswith(MAGIC):
        return raw  # written before checkpoints carried a digest
    digest, sep, body = raw[len(MAGIC) :].partition(b"\n")
    if not sep or hashlib.sha256(body).hexdigest().encode("ascii") != digest:
        raise CheckpointError(
            f"checkpoint {str(path)!r} failed its integrity check (SHA-256 of its contents differs from the one "
            "it was written with): it was changed or damaged; use an earlier checkpoint or train again"
        )
    return body


def _first_non_finite(value: Any, where: str = "") -> str | None:
    """The key path of the first floating-point tensor holding NaN or inf in ``value``, or None."""
    if isinstance(value, torch.Tensor):
        return where or "the payload" if value.is_floating_point() and not torch.isfinite(value).all() else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _first_non_finite(item, f"{where}.{key}" if where else str(key))
        if found is not None:
            return found
    return None
