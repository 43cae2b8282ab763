"""Choosing the torch device by name (issue 19: device=cuda without CUDA was a traceback)."""

import pytest
import torch

from evprice.core.config import ConfigError
from evprice.learn.device import resolve_device


def test_cpu_and_auto():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"device='cuda' is invalid here: .* sees no CUDA device"):
        resolve_device("cuda")
    from click.testing import CliRunner

    from evprice.cli import main

    args = ["train", "mappo", "--env", "LogitBertrand-v0", "--steps", "64", "--ppo", "device=cuda", "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "device='cuda' is invalid here" in result.output
