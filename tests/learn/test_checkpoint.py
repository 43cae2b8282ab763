"""Checkpoints: atomic writes, clear errors on damaged files."""

import pytest
import torch

from evprice.learn import checkpoint as ckpt
from evprice.learn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

PAYLOAD = {
    "env_id": "LogitBertrand-v0",
    "overrides": {},
    "config": {},
    "update": 3,
    "env_steps": 96,
    "n_agents": 2,
    "observation_size": 7,
    "actor": {"w": torch.ones(2)},
    "critic": {"w": torch.zeros(2)},
    "optimizer": {},
    "obs_norm": {},
    "state_norm": {},
    "reward_scaler": {},
    "generator": torch.zeros(4, dtype=torch.uint8),
    "torch_rng": torch.zeros(4, dtype=torch.uint8),
}


def test_round_trip(tmp_path):
    path = save_checkpoint(tmp_path / "c" / "last.pt", PAYLOAD)
    data = load_checkpoint(path)
    assert data["update"] == 3 and torch.equal(data["actor"]["w"], torch.ones(2))
    assert load_checkpoint(tmp_path / "c")["env_steps"] == 96  # a folder holding last.pt


def test_a_crash_mid_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "last.pt", PAYLOAD)

    def crash(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(ckpt.torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {**PAYLOAD, "update": 4})
    assert load_checkpoint(path)["update"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary file left behind


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "damaged or not a checkpoint"),
        (b"PK\x03\x04 truncated", "damaged or not a checkpoint"),
        (None, "not an evprice checkpoint"),
    ],
)
def test_damaged_or_foreign_files_give_a_clear_error(tmp_path, content, message):
    path = tmp_path / "last.pt"
    if content is None:
        torch.save({"weights": torch.ones(1)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_truncated_real_checkpoint(tmp_path):
    path = save_checkpoint(tmp_path / "last.pt", PAYLOAD)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(path)


def test_incomplete_checkpoint(tmp_path):
    path = save_checkpoint(tmp_path / "last.pt", {k: v for k, v in PAYLOAD.items() if k != "optimizer"})
    with pytest.raises(CheckpointError, match=r"incomplete: missing \['optimizer'\]"):
        load_checkpoint(path)


def test_checkpoint_is_an_ordinary_readable_file(tmp_path):
    path = save_checkpoint(tmp_path / "last.pt", PAYLOAD)
    assert path.stat().st_mode & 0o777 == 0o644


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nothing")


def test_a_checkpoint_of_another_trainer_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "last.pt", PAYLOAD, kind="ppo")
    with pytest.raises(CheckpointError, match="written by the 'ppo' trainer; expected 'ccem'"):
        load_checkpoint(path, kind="ccem")
    assert load_checkpoint(path, kind=None)["kind"] == "ppo"


def test_every_changed_byte_is_caught_by_the_integrity_check(tmp_path):
    """Issue 19: of 15 single-byte flips, 11 used to load silently and one changed the policy."""
    path = save_checkpoint(tmp_path / "last.pt", PAYLOAD)
    original = path.read_bytes()
    assert original.startswith(ckpt.MAGIC)
    positions = [len(ckpt.MAGIC) + 3, *range(len(ckpt.MAGIC) + 70, len(original), max(1, len(original) // 15))]
    for at in positions[:15]:
        flipped = bytearray(original)
        flipped[at] ^= 0x01
        path.write_bytes(bytes(flipped))
        with pytest.raises(CheckpointError, match=r"last.pt' failed its integrity check"):
            load_checkpoint(path)
    path.write_bytes(original)
    assert load_checkpoint(path)["update"] == 3


def test_a_checkpoint_written_before_the_digest_still_loads(tmp_path):
    path = tmp_path / "old.pt"
    torch.save({"format": ckpt.FORMAT, "version": ckpt.VERSION, "kind": "ppo", **PAYLOAD}, path)  # no digest line
    assert load_checkpoint(path)["env_steps"] == 96


def test_non_finite_weights_are_refused_by_name(tmp_path):
    path = save_checkpoint(tmp_path / "last.pt", {**PAYLOAD, "actor": {"w": torch.tensor([1.0, float("nan")])}})
    with pytest.raises(CheckpointError, match=r"holds non-finite numbers in actor.w"):
        load_checkpoint(path)
