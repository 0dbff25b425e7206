"""The per-device search rule of the Leech quantizer: what "auto" picks, that
``search_backend`` overrides it, and that every search returns the same indices."""

from __future__ import annotations

import pytest
import torch

import lattiq.quantizers.spherical as sph
from lattiq.quantizers import SphericalQuantizer
from lattiq.quantizers.spherical import LEECH_AUTO_SEARCH, leech_auto_search

SEARCHES = ("numba", "torch", "tiled")


def test_rule_table_reads_as_documented():
    assert leech_auto_search("cpu", 1) == "numba"
    assert leech_auto_search("cpu", 10**7) == "numba"
    (start0, first), *rest = LEECH_AUTO_SEARCH["cuda"]
    assert start0 == 0 and leech_auto_search("cuda", 1) == first
    for start, name in rest:
        assert leech_auto_search("cuda", start) == name
        assert leech_auto_search("cuda", start - 1) != name or start == 0
    assert leech_auto_search("mps", 10) == "torch"  # unlisted devices: the torch search
    for rows in LEECH_AUTO_SEARCH.values():
        assert [r[0] for r in rows] == sorted(r[0] for r in rows)
        assert all(name in SEARCHES for _, name in rows)


@pytest.mark.parametrize("backend, expect", [
    ("auto", {"cpu": "numba", "cuda-small": "tiled", "cuda-large": "torch"}),
    ("numba", {"cpu": "numba", "cuda-small": "torch", "cuda-large": "torch"}),
    ("torch", {"cpu": "torch", "cuda-small": "torch", "cuda-large": "torch"}),
    ("tiled", {"cpu": "tiled", "cuda-small": "tiled", "cuda-large": "tiled"}),
])
def test_search_backend_overrides_the_rule(backend, expect, monkeypatch):
    monkeypatch.setitem(LEECH_AUTO_SEARCH, "cuda", ((0, "tiled"), (100, "torch")))
    q = SphericalQuantizer("leech", search_backend=backend)
    got = {"cpu": q.search_for(50, "cpu"), "cuda-small": q.search_for(50, "cuda"),
           "cuda-large": q.search_for(500, "cuda")}
    assert got == expect


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_every_search_gives_identical_indices(dtype, monkeypatch):
    g = torch.Generator().manual_seed(1515)
    z = torch.randn(600, 24, generator=g, dtype=torch.float64).to(dtype)
    z[:150] *= 1e-3  # and small, mixed scales
    z[150:300] = torch.randint(-2, 3, (150, 24), generator=g).to(dtype)  # exact ties
    ref = SphericalQuantizer("leech", search_backend="numba")(z).indices
    for backend in ("torch", "tiled"):
        out = SphericalQuantizer("leech", search_backend=backend)(z)
        assert torch.equal(out.indices[300:], ref[300:]), backend
        # ties: the float search may pick another tied codeword, never a farther one
        q = SphericalQuantizer("leech")
        P = q.indices_to_codes(torch.arange(q.codebook_size)).to(torch.float64)
        zt = z[150:300].to(torch.float64)
        best = (zt @ P.T).max(1).values
        got = (zt * q.indices_to_codes(out.indices[150:300]).to(torch.float64)).sum(1)
        torch.testing.assert_close(got, best)
        assert torch.equal(out.indices[:150], ref[:150]), backend
    # "auto" dispatches to whichever search the table names
    calls = []
    real = sph.tiled_nearest

    def spy(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(sph, "tiled_nearest", spy)
    for name in SEARCHES:
        monkeypatch.setitem(LEECH_AUTO_SEARCH, "cpu", ((0, name),))
        q = SphericalQuantizer("leech")
        assert q.search_for(len(z), "cpu") == name
        n_calls = len(calls)
        out = q(z)
        assert (len(calls) > n_calls) == (name == "tiled")
        assert torch.equal(out.indices[300:], ref[300:]), name
        assert torch.equal(out.indices[:150], ref[:150]), name
