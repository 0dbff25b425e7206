"""Every search path against a brute-force oracle on fresh random input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from qtest_helpers import FakeCode, d4_roots_int, e8_roots_int

from lattiq.quantizers.search import (
    LeechSearch,
    RootSearch,
    SignSearch,
    TiledSearch,
    tiled_nearest,
)
from lattiq.quantizers.spherical import _registry_nearest
from lattiq.spherecodes import get_code


def leech_compiled(x) -> torch.Tensor:
    """The quantizer's CPU path for the Leech code: the code's own compiled search
    (``lattiq.spherecodes.search.leech_nearest``), NaN/Inf rows -1."""
    return _registry_nearest(get_code("leech"), torch.as_tensor(x), 64 * 2**20)


def _leech_brute(x: torch.Tensor, P: torch.Tensor):
    """(best index, best score) by chunked float64 matmul over all 196,560 codewords."""
    idx, val = [], []
    for s in range(0, x.shape[0], 64):
        v, i = (x[s : s + 64].double() @ P.T).max(dim=1)
        idx.append(i)
        val.append(v)
    return torch.cat(idx), torch.cat(val)


def _adversarial_leech(P: torch.Tensor, rng: np.random.Generator, n: int) -> torch.Tensor:
    """Inputs near codewords, near midpoints of neighbours, and sparse/structured ones."""
    K = P.shape[0]
    a = P[torch.as_tensor(rng.integers(0, K, n))]
    b = P[torch.as_tensor(rng.integers(0, K, n))]
    noise = torch.as_tensor(rng.standard_normal((n, 24)))
    near = a + 1e-3 * noise
    mid = (a + b) / 2 + 1e-6 * noise
    sparse = noise * torch.as_tensor(rng.random((n, 24)) < 0.3)
    heavy = torch.as_tensor(rng.standard_cauchy((n, 24)))
    return torch.cat([near, mid, sparse, heavy])


@pytest.fixture(scope="module")
def leech_inputs(leech_points):
    rng = np.random.default_rng()  # fresh input every run
    seed = int(rng.integers(2**31))
    rng = np.random.default_rng(seed)
    x = torch.cat([torch.as_tensor(rng.standard_normal((400, 24))),
                   _adversarial_leech(leech_points, rng, 100)])
    idx, val = _leech_brute(x, leech_points)
    return seed, x, idx, val


@pytest.mark.parametrize("backend", ["torch", "compiled"])
def test_leech_matches_brute_force(backend, leech_inputs, leech_points):
    seed, x, idx_ref, val_ref = leech_inputs
    idx = LeechSearch()(x) if backend == "torch" else leech_compiled(x)
    got = (x * leech_points[idx]).sum(1)
    # the winner's score equals the maximum (indices may differ only on exact ties)
    torch.testing.assert_close(got, val_ref, rtol=0, atol=1e-12, msg=f"seed {seed}")
    differ = idx != idx_ref
    assert differ.float().mean() < 0.05, f"seed {seed}"  # only the tie-prone rows


@pytest.mark.parametrize("backend", ["torch", "compiled"])
def test_leech_float32_agrees_with_float64(backend, leech_inputs):
    _, x, idx_ref, _ = leech_inputs
    xr = x[:400].float()  # gaussian rows: no near-ties at float32 precision in practice
    idx = LeechSearch()(xr) if backend == "torch" else leech_compiled(xr)
    assert (idx != idx_ref[:400]).sum() <= 1


def test_leech_integer_inputs_with_ties(leech_points, rng_seed):
    """Small integer inputs have many exact ties; scores are exact, so compare them."""
    rng = np.random.default_rng(rng_seed)
    x = torch.as_tensor(rng.integers(-2, 3, (300, 24))).double()
    x[0] = 0
    _, val = _leech_brute(x, leech_points)
    for idx in (LeechSearch()(x), leech_compiled(x)):
        assert (idx >= 0).all()
        got = (x * leech_points[idx]).sum(1)
        torch.testing.assert_close(got, val, rtol=0, atol=1e-12)
        assert idx[0] == 0  # zero row convention


def test_leech_every_codeword_is_its_own_nearest(leech_points, rng_seed):
    """Exhaustive for the compiled search, a random sample for the torch search."""
    idx = leech_compiled(leech_points)
    assert torch.equal(idx, torch.arange(196560))
    sample = torch.as_tensor(np.random.default_rng(rng_seed).choice(196560, 3000, replace=False))
    assert torch.equal(LeechSearch()(leech_points[sample].float()), sample)


def test_leech_non_finite_rows():
    x = torch.randn(5, 24)
    x[1, 3] = float("nan")
    x[3, 0] = float("inf")
    for idx in (LeechSearch()(x), leech_compiled(x)):
        assert idx[1] == -1 and idx[3] == -1 and (idx[[0, 2, 4]] >= 0).all()


def test_leech_search_small_chunks_match(leech_inputs):
    _, x, idx_ref, _ = leech_inputs
    small = LeechSearch(memory_budget_bytes=2**20)  # forces chunks of a few tokens
    assert torch.equal(small(x[:60]), LeechSearch()(x[:60]))


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (24,), elements=st.floats(-1e3, 1e3, allow_nan=False)),
       st.floats(1e-3, 1e3))
def test_leech_properties(x, scale):
    """Valid index; invariant to positive scaling; never loses to a codeword's neighbours."""
    from lattiq.lattices.leech import leech_shell1

    P = leech_shell1().astype(np.float64)
    k = int(leech_compiled(x[None])[0])
    assert 0 <= k < 196560
    assert int(LeechSearch()(torch.as_tensor(x[None]))[0]) >= 0
    s = x @ P[k]
    ks = int(leech_compiled((scale * x)[None])[0])
    assert x @ P[ks] >= s - 1e-9 * max(1.0, abs(s))
    # local optimality: no codeword at angle 60° from the winner does better
    nb = P[(P @ P[k]) == 16]
    assert (nb @ x <= s + 1e-9 * max(1.0, abs(s))).all()


# --------------------------------------------------------------------------- tiled
@pytest.mark.parametrize("budget", [2**16, 2**20, 64 * 2**20])
@pytest.mark.parametrize("cache_tile", [None, 100, 2**14, 2**30])
def test_tiled_matches_argmax(budget, cache_tile, rng_seed):
    g = torch.Generator().manual_seed(int(np.random.default_rng(rng_seed).integers(2**31)))
    cb = torch.randn(3000, 16, generator=g, dtype=torch.float64)
    cb = torch.nn.functional.normalize(cb, dim=1)
    x = torch.randn(300, 16, generator=g, dtype=torch.float64)
    ref = (x @ cb.T).argmax(1)
    assert torch.equal(tiled_nearest(x, cb, budget, cache_tile), ref)
    if cache_tile is not None:
        return
    got = TiledSearch(cb.numpy(), budget)(x.float())  # float32: compare scores
    torch.testing.assert_close((x * cb[got]).sum(1), (x * cb[ref]).sum(1), atol=1e-5, rtol=0)


def test_tiled_first_index_on_ties_and_conventions():
    cb = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    x = torch.tensor([[2.0, 0.0], [0.0, 0.0], [float("nan"), 1.0]])
    assert tiled_nearest(x, cb, 2**16).tolist() == [0, 0, -1]


@pytest.mark.parametrize("cache_tile", [8, 64, 512, None])
def test_tiled_first_index_on_ties_across_tiles(cache_tile, rng_seed):
    """Copies of one codeword in different codebook tiles: the first copy wins.

    Sign vectors and integer queries make every score an exact integer, so equal scores
    are equal whatever the tiling does to the order of the sums.
    """
    rng = np.random.default_rng(rng_seed)
    base = torch.as_tensor(rng.choice([-1.0, 1.0], size=(40, 8)))
    base = torch.unique(base, dim=0)
    m = base.shape[0]
    cb = torch.cat([base, base, base])  # codeword j repeats at j + m and j + 2m
    perm = torch.as_tensor(rng.permutation(m))
    x = base[perm] * 3.0
    got = tiled_nearest(x, cb, 2**16, cache_tile)
    assert torch.equal(got, perm)


# --------------------------------------------------------------------------- roots
@pytest.mark.parametrize("kind,roots", [("e8", e8_roots_int()), ("d4", d4_roots_int())])
def test_root_search_matches_brute(kind, roots, rng_seed):
    assert len(roots) == (240 if kind == "e8" else 24)
    scale = 1 / math.sqrt((roots[0] ** 2).sum())
    perm_seed = int(np.random.default_rng(rng_seed).integers(1000))
    code = FakeCode(kind, roots, scale, perm_seed=perm_seed)
    P = torch.as_tensor(code.points)
    s = RootSearch(kind, code.int_points, code.int_scale)
    rng = np.random.default_rng(rng_seed)
    x = torch.as_tensor(rng.standard_normal((3000, code.dim)))
    idx = s(x)
    ref = (x @ P.T).argmax(1)
    torch.testing.assert_close((x * P[idx]).sum(1), (x * P[ref]).sum(1), rtol=0, atol=1e-12)
    assert torch.equal(s(P), torch.arange(len(P)))  # every root finds itself
    assert torch.equal(s(P.float()), torch.arange(len(P)))


# --------------------------------------------------------------------------- sign
@pytest.mark.parametrize("negative_bit,little", [(1, True), (0, True), (1, False)])
def test_sign_search_matches_brute(negative_bit, little):
    d = 10
    s = SignSearch(d, negative_bit, little)
    allc = s.codes(torch.arange(2**d))  # (1024, d), as the search defines them
    assert torch.equal(s(allc), torch.arange(2**d))
    x = torch.randn(2000, d, dtype=torch.float64)
    ref = (x @ allc.double().T).argmax(1)
    assert torch.equal(s(x), ref)


@pytest.mark.parametrize("name", ["leech-4600", "leech-891"])
def test_leech_subset_search_matches_brute(name, rng_seed):
    from lattiq.quantizers.search import LeechSubsetSearch

    C = get_code(name)
    P = torch.as_tensor(np.array(C.points))
    s = LeechSubsetSearch.from_structure(C.structure, 2**20)
    rng = np.random.default_rng(rng_seed)
    near = P[torch.as_tensor(rng.integers(0, C.size, 300))]
    x = torch.cat([torch.as_tensor(rng.standard_normal((1500, C.dim))),
                   near + 1e-3 * torch.as_tensor(rng.standard_normal((300, C.dim)))])
    idx = s(x)
    ref = (x @ P.T).argmax(1)
    torch.testing.assert_close((x * P[idx]).sum(1), (x * P[ref]).sum(1), rtol=0, atol=1e-12)
    assert torch.equal(s(P), torch.arange(C.size))  # every codeword finds itself
    assert torch.equal(s(P.float()), torch.arange(C.size))
