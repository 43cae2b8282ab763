"""GAE against a hand-computed example."""

import pytest
import torch

from evprice.learn.gae import gae


def test_gae_by_hand():
    # one agent, three steps, the episode ends after step 2 (index 1); gamma 0.9, lambda 0.5
    r = torch.tensor([1.0, 2.0, 3.0])
    v = torch.tensor([0.5, 1.0, 2.0])
    d = torch.tensor([0.0, 1.0, 0.0])
    last = torch.tensor(4.0)
    adv, ret = gae(r, v, d, last, gamma=0.9, lam=0.5)
    # step 2: delta = 3 + 0.9 * 4 - 2 = 4.6; A2 = 4.6
    # step 1: episode ends: delta = 2 - 1 = 1; A1 = 1
    # step 0: delta = 1 + 0.9 * 1.0 - 0.5 = 1.4; A0 = 1.4 + 0.45 * 1 = 1.85
    assert adv.tolist() == pytest.approx([1.85, 1.0, 4.6])
    assert ret.tolist() == pytest.approx([2.35, 2.0, 6.6])


def test_lambda_one_gives_discounted_returns_and_zero_gives_td():
    r = torch.tensor([[1.0], [0.0], [2.0]])
    v = torch.tensor([[0.3], [0.2], [0.1]])
    d = torch.zeros(3, 1)
    last = torch.tensor([5.0])
    _, ret = gae(r, v, d, last, gamma=0.5, lam=1.0)
    assert ret[:, 0].tolist() == pytest.approx([1 + 0.25 * 2 + 0.125 * 5, 0.5 * 2 + 0.25 * 5, 2 + 0.5 * 5])
    adv, _ = gae(r, v, d, last, gamma=0.5, lam=0.0)
    assert adv[:, 0].tolist() == pytest.approx([1 + 0.5 * 0.2 - 0.3, 0 + 0.5 * 0.1 - 0.2, 2 + 0.5 * 5 - 0.1])
