"""Per-seed Adam and clipping against torch's own, one seed at a time."""

import pytest
import torch

from evprice.learn.optim import SeedAdam, clip_grad_norm_per_seed


def _grads(step, shape):
    return torch.sin(torch.arange(torch.Size(shape).numel(), dtype=torch.float32).reshape(shape) * 0.37 + step)


def test_seed_adam_is_torch_adam_per_seed_and_skips_inactive_seeds():
    shapes = [(3, 4, 2), (3, 5)]
    stacked = [torch.nn.Parameter(torch.randn(s, generator=torch.Generator().manual_seed(1))) for s in shapes]
    singles = [[torch.nn.Parameter(p.detach()[k].clone()) for p in stacked] for k in range(3)]
    opt = SeedAdam(stacked, 3, lr=0.01, eps=1e-5)
    torch_opts = [torch.optim.Adam(ps, lr=0.01, eps=1e-5) for ps in singles]
    masks = [[True, True, True], [True, False, True], [True, False, False], [True, True, True]]
    for step, mask in enumerate(masks):
        for p, s in zip(stacked, shapes):
            p.grad = _grads(step, s) * (1 + torch.arange(3).reshape((3,) + (1,) * (len(s) - 1)))
        opt.step(torch.tensor(mask))
        for k, on in enumerate(mask):
            if on:
                for p, q in zip(singles[k], stacked):
                    p.grad = q.grad[k].clone()
                torch_opts[k].step()
    for k in range(3):
        for p, q in zip(singles[k], stacked):
            torch.testing.assert_close(q.detach()[k], p.detach(), rtol=1e-6, atol=1e-7)
    assert opt.steps.tolist() == [4.0, 2.0, 3.0]
    # a seed's state is torch.optim.Adam's for the one-seed parameters, and reads back
    ref = torch_opts[1].state_dict()["state"]
    mine = opt.seed_state(1)["state"]
    for i in range(2):
        assert float(mine[i]["step"]) == float(ref[i]["step"]) == 2.0
        torch.testing.assert_close(mine[i]["exp_avg_sq"], ref[i]["exp_avg_sq"], rtol=1e-6, atol=1e-9)
    other = SeedAdam([torch.nn.Parameter(torch.zeros((2,) + p.shape[1:])) for p in stacked], 2, lr=0.01)
    other.load_seed_state(0, torch_opts[2].state_dict())
    assert other.steps.tolist() == [3.0, 0.0]


def test_clipping_is_torch_clipping_per_seed():
    shapes = [(2, 3, 3), (2, 4)]
    params = [torch.nn.Parameter(torch.zeros(s)) for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=torch.Generator().manual_seed(3)) * torch.tensor([0.01, 5.0]).reshape(
            (2,) + (1,) * (p.dim() - 1)
        )
    singles = [[torch.nn.Parameter(torch.zeros(p.shape[1:])) for p in params] for _ in range(2)]
    for k in range(2):
        for q, p in zip(singles[k], params):
            q.grad = p.grad[k].clone()
    norms = clip_grad_norm_per_seed(params, 0.5)
    for k in range(2):
        expected = torch.nn.utils.clip_grad_norm_(singles[k], 0.5)
        assert float(norms[k]) == pytest.approx(float(expected), rel=1e-6)
        for q, p in zip(singles[k], params):
            torch.testing.assert_close(p.grad[k], q.grad, rtol=1e-6, atol=1e-8)
    assert float(norms[0]) < 0.5 < float(norms[1])  # one seed clipped, the other not
