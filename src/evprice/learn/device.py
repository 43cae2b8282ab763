"""The torch device a learner runs on, chosen by name, refused clearly when it is not there."""

from __future__ import annotations

import torch

from evprice.core.config import ConfigError


def resolve_device(name: str, key: str = "device") -> torch.device:
    """``"cpu"``, ``"cuda"`` or ``"auto"`` (CUDA when available) as a ``torch.device``.

    ``"cuda"`` on a machine where torch sees no CUDA device raises :class:`ConfigError`
    naming ``key`` (a usage error on the CLI, not a traceback from deep inside torch).
    """
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"{key}='cuda' is invalid here: torch {torch.__version__} sees no CUDA device on this machine; "
            "use 'cpu', or 'auto' (CUDA when there is one)"
        )
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")
