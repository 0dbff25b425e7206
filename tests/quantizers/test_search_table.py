"""The table from structure kind to torch search: every registered code gets the search of
its declared kind (never one guessed from its name), and a new structured code needs only
its structure, one search class and one ``@register_search`` line."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from qtest_helpers import FakeCode, e8_roots_int

import lattiq.quantizers.search as search_mod
from lattiq.quantizers import SphericalQuantizer
from lattiq.quantizers.search import (
    LeechSearch,
    LeechSubsetSearch,
    RootSearch,
    SignSearch,
    StructuredSearch,
    register_search,
    registered_searches,
    search_class,
)
from lattiq.spherecodes import CodeStructure, SphericalCode, get_code, list_codes


def test_the_table():
    # (the docs' example registers one more kind when it runs in this process)
    assert {"leech-shell", "leech-subset", "roots", "sign"} <= set(registered_searches())
    assert search_class("leech-shell") is LeechSearch
    assert search_class("leech-subset") is LeechSubsetSearch
    assert search_class("roots") is RootSearch
    assert search_class("sign") is SignSearch
    assert search_class("none") is None and search_class("fibonacci") is None


@pytest.mark.parametrize("name", list_codes())
def test_each_registry_code_gets_the_search_of_its_structure(name):
    C = get_code(name)
    q = SphericalQuantizer(name)
    cls = search_class(C.structure.kind)
    if cls is None:
        assert q.search is None and q.search_kind == "tiled"
    else:
        assert type(q.search) is cls and q.search_kind == C.structure.kind
    # the code's compiled search serves CPU tensors when it declares a structure
    # (binary codes excepted: their torch search is the faster one)
    assert q.cpu_kernel == (C.structure.kind not in ("none", "sign"))


def test_names_do_not_choose_the_search(rng_seed):
    """Objects named like structured codes, without a structure, get the tiled search."""
    e8 = SphericalCode.from_points(get_code("e8").points, name="e8")
    assert SphericalQuantizer(e8).search_kind == "tiled"
    roots = e8_roots_int()
    fake = FakeCode("leech", roots, 1 / math.sqrt(8))
    q = SphericalQuantizer(fake)
    assert q.search_kind == "tiled" and not q.cpu_kernel
    with pytest.raises(ValueError, match="no compiled structured search"):
        SphericalQuantizer(fake, search_backend="numba")
    z = torch.as_tensor(np.random.default_rng(rng_seed).standard_normal((200, 8)))
    ref = (torch.nn.functional.normalize(z, dim=1) @ torch.as_tensor(fake.points).T).argmax(1)
    assert torch.equal(q(z).indices, ref)


def test_a_bad_structure_is_refused():
    fake = FakeCode("custom", e8_roots_int(), 1 / math.sqrt(8))
    fake.structure = "roots"
    with pytest.raises(TypeError, match="CodeStructure"):
        SphericalQuantizer(fake)


def test_register_search_refuses_duplicates_and_non_searches(monkeypatch):
    monkeypatch.setattr(search_mod, "_SEARCHES", dict(search_mod._SEARCHES))
    with pytest.raises(ValueError, match="already has a search"):
        register_search("roots")(type("Other", (StructuredSearch,), {}))
    with pytest.raises(TypeError, match="StructuredSearch"):
        register_search("new-kind")(torch.nn.Identity)


# ------------------------------------------------------------------ a new structured code


@dataclass(frozen=True)
class CrossStructure(CodeStructure):
    """The cross-polytope ``{±e_i}``: codeword ``2i + [negative]``."""

    kind = "test-cross"
    dim: int


class CrossSearch(StructuredSearch):
    """Largest ``|x_i|`` and its sign."""

    @classmethod
    def from_structure(cls, structure, memory_budget_bytes):
        return cls()

    def forward(self, x):  # (n, d) -> (n,)
        i = x.abs().argmax(dim=1)
        neg = x.gather(1, i[:, None])[:, 0] < 0
        return 2 * i + neg.long()


class CrossCode:
    """A code object with the new structure (no other code is needed)."""

    def __init__(self, d):
        eye = np.eye(d)
        self.points = np.stack([eye, -eye], axis=1).reshape(2 * d, d)
        self.name, self.dim, self.size = f"cross-{d}", d, 2 * d
        self.structure = CrossStructure(d)


def test_a_new_kind_needs_one_search_and_one_table_entry(monkeypatch, rng_seed):
    monkeypatch.setattr(search_mod, "_SEARCHES", dict(search_mod._SEARCHES))
    register_search("test-cross")(CrossSearch)
    code = CrossCode(6)
    q = SphericalQuantizer(code)
    assert isinstance(q.search, CrossSearch) and q.search_kind == "test-cross"
    z = torch.as_tensor(np.random.default_rng(rng_seed).standard_normal((300, 6)))
    out = q(z)
    ref = (torch.nn.functional.normalize(z, dim=1) @ torch.as_tensor(code.points).T).argmax(1)
    assert torch.equal(out.indices, ref)
    assert torch.equal(q.indices_to_codes(out.indices), torch.as_tensor(code.points).float()[ref])
