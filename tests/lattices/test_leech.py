"""Leech lattice from the Golay code: shell 1 by shapes, ranks, membership, inner products."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.lattices import get_lattice
from lattiq.lattices.leech import (
    SHAPE_OFFSETS,
    leech_basis_int,
    leech_contains_int,
    leech_shell1,
    leech_shell1_index,
)

S = leech_shell1()


def test_shell1_shapes_and_counts():
    assert S.shape == (196560, 24) and S.dtype == np.int8
    assert SHAPE_OFFSETS == (0, 1104, 98256, 196560)
    a, b, c = (S[SHAPE_OFFSETS[i]:SHAPE_OFFSETS[i + 1]] for i in range(3))
    assert len(a) == 1104 and len(b) == 97152 and len(c) == 98304
    assert ((np.abs(a) == 4).sum(1) == 2).all()
    assert ((np.abs(b) == 2).sum(1) == 8).all() and ((b < 0).sum(1) % 2 == 0).all()
    assert ((np.abs(c) == 3).sum(1) == 1).all() and ((np.abs(c) == 1).sum(1) == 23).all()
    assert len(np.unique(S, axis=0)) == 196560


def test_every_shell1_vector_has_norm_32_and_is_member():
    assert ((S.astype(np.int64) ** 2).sum(1) == 32).all()
    assert leech_contains_int(S).all()


def test_inner_product_distribution_from_every_shape():
    # unit inner products 1, 1/2, 1/4, 0, -1/4, -1/2, -1 -> integer 32, 16, 8, 0, -8, -16, -32
    expected = {-32: 1, -16: 4600, -8: 47104, 0: 93150, 8: 47104, 16: 4600, 32: 1}
    S64 = S.astype(np.int64)
    rng = np.random.default_rng(1)
    picks = [0, 1103, 1104, 98255, 98256, 196559] + list(rng.integers(0, 196560, 4))
    for i in picks:
        vals, counts = np.unique(S64 @ S64[i], return_counts=True)
        assert dict(zip(vals.tolist(), counts.tolist(), strict=True)) == expected


def test_closed_form_rank_inverts_order():
    assert (leech_shell1_index(S) == np.arange(196560)).all()


@given(st.integers(0, 196559))
def test_rank_property(i):
    assert leech_shell1_index(S[i]) == i


def test_rank_rejects_non_shell_vectors():
    bad = np.zeros(24, np.int64)
    bad[:2] = [4, 3]
    with pytest.raises(ValueError, match="not a minimal vector"):
        leech_shell1_index(bad)
    odd = S[1104].astype(np.int64).copy()
    nz = np.nonzero(odd)[0][0]
    odd[nz] *= -1  # odd number of minus signs on the octad
    with pytest.raises(ValueError):
        leech_shell1_index(odd)


def test_basis_is_unimodular_after_scaling():
    B = leech_basis_int()
    assert leech_contains_int(B).all()
    L = get_lattice("leech")
    assert L.gram() == L.gram().T
    gi = (B @ B.T)
    assert (gi % 8 == 0).all()  # integral after dividing by 8
    assert (np.diag(gi) % 16 == 0).all()  # even
    assert L.det() == 1
    from lattiq.lattices.exact import exact_det

    assert exact_det(L.gram()) == 1


@settings(max_examples=50)
@given(st.lists(st.integers(-3, 3), min_size=24, max_size=24))
def test_membership_closed_under_addition_and_negation(u):
    B = leech_basis_int()
    x = np.array(u) @ B
    y = S[sum(abs(v) for v in u) * 97 % 196560].astype(np.int64)
    assert leech_contains_int(x) and leech_contains_int(-x)
    assert leech_contains_int(x + y) and leech_contains_int(x - y)
    z = x.copy()
    z[0] += 1
    assert not leech_contains_int(z)
