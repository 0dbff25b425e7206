"""Dion: orthonormal factors, rank, convergence, exact resume, DDP equals one process."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lattiq.training.optim import Dion, Lion, OptimConfig, build_optimizer, param_roles
from lattiq.training.optim.dion import column_normalize, dion_power_iteration

HERE = Path(__file__).parent


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 12), n=st.integers(1, 12), r=st.integers(1, 12), seed=st.integers(0, 999))
def test_power_iteration_factors_orthonormal(m, n, r, seed):
    r = min(r, m, n)
    g = torch.Generator().manual_seed(seed)
    B = torch.randn(m, n, generator=g, dtype=torch.float64)
    Q = torch.randn(n, r, generator=g, dtype=torch.float64)
    P, R = dion_power_iteration(B, Q)
    torch.testing.assert_close(P.t() @ P, torch.eye(r, dtype=torch.float64), atol=1e-10, rtol=0)
    torch.testing.assert_close(R, B.t() @ P)
    # P Rᵀ is the orthogonal projection of B onto span(P): the residual is orthogonal to P
    torch.testing.assert_close(P.t() @ (B - P @ R.t()), torch.zeros(r, n, dtype=torch.float64),
                               atol=1e-10, rtol=0)
    Qn = column_normalize(R)
    norms = Qn.norm(dim=0)
    assert torch.all((norms - 1).abs() < 1e-10) or torch.all(R.norm(dim=0) < 1e-8)


def test_full_rank_update_converges_to_polar_factor():
    # B = U diag(5,4,3,2,1) Vᵀ: repeated Dion power iterations give O = P Qᵀ -> U Vᵀ
    g = torch.Generator().manual_seed(0)
    U, _ = torch.linalg.qr(torch.randn(8, 5, generator=g, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(5, 5, generator=g, dtype=torch.float64))
    B = U @ torch.diag(torch.tensor([5.0, 4, 3, 2, 1], dtype=torch.float64)) @ V.t()
    Q = column_normalize(torch.randn(5, 5, generator=g, dtype=torch.float64))
    for _ in range(120):
        P, R = dion_power_iteration(B, Q)
        Q = column_normalize(R)
    O = P @ Q.t()
    torch.testing.assert_close(O, U @ V.t(), atol=1e-8, rtol=0)
    # an orthonormal update: all singular values 1
    s = torch.linalg.svdvals(O)
    torch.testing.assert_close(s, torch.ones(5, dtype=torch.float64), atol=1e-8, rtol=0)


def test_single_step_update_is_scaled_orthonormal_factor():
    g = torch.Generator().manual_seed(1)
    X = nn.Parameter(torch.randn(7, 4, generator=g, dtype=torch.float64))
    X0 = X.detach().clone()
    X.grad = torch.randn(7, 4, generator=g, dtype=torch.float64)
    opt = Dion([X], lr=0.1, scale="spectral")
    opt.step()
    step = (X0 - X.detach()) / (0.1 * math.sqrt(7 / 4))
    Q = opt.state[X]["Q"]
    # step = P Qᵀ with Pᵀ P = I, unit columns of Q: ‖step‖_F² = sum of ‖Q_j‖² = r
    assert step.norm().item() ** 2 == pytest.approx(4.0, rel=1e-10)
    torch.testing.assert_close(Q.norm(dim=0), torch.ones(4, dtype=torch.float64))


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_rank_option(rank):
    g = torch.Generator().manual_seed(2)
    X = nn.Parameter(torch.randn(9, 6, generator=g, dtype=torch.float64))
    opt = Dion([X], lr=0.05, rank=rank)
    for _ in range(3):
        X0 = X.detach().clone()
        X.grad = torch.randn(9, 6, generator=g, dtype=torch.float64)
        opt.step()
        assert torch.linalg.matrix_rank(X.detach() - X0, atol=1e-10).item() == rank
    assert opt.state[X]["Q"].shape == (6, rank)


def test_rank_fraction_and_conv_weight():
    X = nn.Parameter(torch.randn(8, 2, 3, 3))  # conv-like weight viewed as (8, 18)
    X.grad = torch.randn_like(X)
    opt = Dion([X], lr=0.01, rank_fraction=0.25)
    opt.step()
    assert opt.state[X]["Q"].shape == (18, 2)


def test_error_feedback_keeps_unused_part():
    # rank-1 step: the momentum after the step is B - (1-μ) P Rᵀ exactly
    g = torch.Generator().manual_seed(3)
    X = nn.Parameter(torch.zeros(5, 4, dtype=torch.float64))
    G = torch.randn(5, 4, generator=g, dtype=torch.float64)
    X.grad = G.clone()
    opt = Dion([X], lr=0.1, rank=1, momentum=0.9)
    opt._init_state(X, opt.param_groups[0], 1)
    Q0 = opt.state[X]["Q"].clone()
    opt.step()
    P, R = dion_power_iteration(G, Q0)
    torch.testing.assert_close(opt.state[X]["momentum"], G - 0.1 * P @ R.t())


def test_converges_on_least_squares():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(64, 10, generator=g, dtype=torch.float64)
    Y = A @ torch.randn(10, 8, generator=g, dtype=torch.float64)
    X = nn.Parameter(torch.zeros(10, 8, dtype=torch.float64))
    T = 300
    opt = Dion([X], lr=0.1, momentum=0.9, scale="none")
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5 * (1 + math.cos(math.pi * t / T)))
    first = None
    for _ in range(T):
        loss = ((A @ X - Y) ** 2).mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    assert loss.item() < 1e-5 * first


def test_state_dict_resume_is_exact():
    def make():
        torch.manual_seed(0)
        return nn.Linear(5, 7, bias=False).double()

    g = torch.Generator().manual_seed(4)
    grads = [torch.randn(7, 5, generator=g, dtype=torch.float64) for _ in range(6)]
    a = make()
    oa = Dion(a.parameters(), lr=0.03, rank=2, seed=5)
    for G in grads:
        a.weight.grad = G.clone()
        oa.step()
    b = make()
    ob = Dion(b.parameters(), lr=0.03, rank=2, seed=5)
    for G in grads[:3]:
        b.weight.grad = G.clone()
        ob.step()
    c = make()
    c.load_state_dict(b.state_dict())
    oc = Dion(c.parameters(), lr=0.03, rank=2, seed=99)
    oc.load_state_dict(ob.state_dict())
    for G in grads[3:]:
        c.weight.grad = G.clone()
        oc.step()
    assert torch.equal(a.weight, c.weight)


def test_ddp_two_processes_equal_one(tmp_path):
    sys.path.insert(0, str(HERE))
    try:
        import ddp_dion_worker
        import var_fixtures
    finally:
        sys.path.remove(str(HERE))
    single = tmp_path / "single.pt"
    ddp_dion_worker.run(str(single))
    out = tmp_path / "ddp.pt"
    proc = var_fixtures.run_torchrun([str(HERE / "ddp_dion_worker.py"), str(out)])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    a, b = torch.load(single), torch.load(out)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-10, atol=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="matrix parameters only"):
        Dion([nn.Parameter(torch.zeros(3))])
    with pytest.raises(ValueError, match="momentum"):
        Dion([nn.Parameter(torch.zeros(3, 3))], momentum=1.0)
    with pytest.raises(ValueError, match="rank"):
        Dion([nn.Parameter(torch.zeros(3, 3))], rank=0)
    with pytest.raises(ValueError, match="scale"):
        Dion([nn.Parameter(torch.zeros(3, 3))], scale="bogus")


def test_lion_step_is_sign():
    p = nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    p.grad = torch.tensor([0.5, -0.1, 0.0])
    Lion([p], lr=0.1, weight_decay=0.0).step()
    torch.testing.assert_close(p.detach(), torch.tensor([0.9, -1.9, 3.0]))


class _Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_embed = nn.Embedding(10, 8)
        self.body = nn.Linear(8, 8)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 100)

    def forward(self, x):
        return self.head(self.norm(self.body(self.tok_embed(x))))


@pytest.mark.parametrize("matrix", ["dion", "muon", "adamw"])
@pytest.mark.parametrize("scalar", ["adamw", "lion"])
def test_build_optimizer_groups(matrix, scalar):
    m = _Toy()
    roles = param_roles(m)
    assert roles == {"tok_embed.weight": "embed", "body.weight": "matrix", "body.bias": "vector",
                     "norm.weight": "vector", "norm.bias": "vector", "head.weight": "head",
                     "head.bias": "head"}
    opt = build_optimizer(m, OptimConfig(matrix=matrix, scalar=scalar, lr=1e-3))
    groups = {g["role"]: g for g in opt.param_groups}
    assert groups["head"]["lr"] == pytest.approx(1e-3 / math.sqrt(8))
    assert groups["embed"]["weight_decay"] == 0.0
    seen = [id(p) for g in opt.param_groups for p in g["params"]]
    assert sorted(seen) == sorted(id(p) for p in m.parameters())
    loss = m(torch.arange(4)).logsumexp(-1).mean()
    loss.backward()
    before = {k: v.detach().clone() for k, v in m.state_dict().items()}
    opt.step()
    assert all(not torch.equal(before[k], v) for k, v in m.state_dict().items())
    opt.set_lr_factor(0.5)
    assert groups["head"]["lr"] == pytest.approx(0.5e-3 / math.sqrt(8))
    opt.load_state_dict(opt.state_dict())


def test_build_optimizer_bad_names():
    with pytest.raises(ValueError, match="matrix optimizer"):
        build_optimizer(_Toy(), OptimConfig(matrix="sgd"))
    with pytest.raises(ValueError, match="scalar optimizer"):
        build_optimizer(_Toy(), OptimConfig(scalar="sgd"))


def test_zero_gradient_gives_no_update_and_keeps_factor():
    X = nn.Parameter(torch.ones(4, 3, dtype=torch.float64))
    X.grad = torch.zeros(4, 3, dtype=torch.float64)
    opt = Dion([X], lr=0.1)
    opt.step()
    Q0 = opt.state[X]["Q"].clone()
    assert torch.equal(X.detach(), torch.ones(4, 3, dtype=torch.float64))
    opt.step()
    assert torch.equal(opt.state[X]["Q"], Q0)
    torch.testing.assert_close(Q0.norm(dim=0), torch.ones(3, dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rank_deficient_gradient_gives_no_noise_directions(dtype):
    # a rank-2 gradient under a full-rank Dion: the extra columns of P span rounding noise
    # and must not become full-size steps (they would differ between DDP and one process)
    g = torch.Generator().manual_seed(5)
    U = torch.randn(12, 2, generator=g, dtype=dtype)
    V = torch.randn(2, 9, generator=g, dtype=dtype)
    X = nn.Parameter(torch.zeros(12, 9, dtype=dtype))
    X.grad = U @ V
    opt = Dion([X], lr=1.0, scale="none")
    opt.step()
    s = torch.linalg.svdvals(X.detach().double())
    assert s[2:].max() < 1e-5 * s[0]
    torch.testing.assert_close(s[:2], torch.ones(2, dtype=torch.float64), atol=0.3, rtol=0)
