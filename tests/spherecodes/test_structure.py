"""Every registered code declares its structure, and the declaration is true of its points."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lattiq.lattices.leech import leech_shell1
from lattiq.spherecodes import (
    NO_STRUCTURE,
    CodeStructure,
    LeechShellStructure,
    LeechSubsetStructure,
    RootStructure,
    SignStructure,
    SphericalCode,
    get_code,
    list_codes,
)

#: what each registered family declares
KINDS = {
    "leech": "leech-shell",
    "leech-4600": "leech-subset",
    "leech-891": "leech-subset",
    "e8": "roots",
    "d4": "roots",
    "bsq-8": "sign",
    "bsq-16": "sign",
    "fibonacci-1000": "fibonacci",
}


@pytest.mark.parametrize("name", list_codes())
def test_every_registered_code_declares_its_kind(name):
    st = get_code(name).structure
    assert isinstance(st, CodeStructure)
    assert st.kind == KINDS.get(name, "none")
    assert get_code(name).structure is st  # one description per code


def test_user_codes_have_no_structure(rng_seed):
    X = np.random.default_rng(rng_seed).standard_normal((50, 8))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    assert SphericalCode.from_points(X).structure is NO_STRUCTURE
    # not even when their points and name are those of a structured code
    e8 = get_code("e8")
    assert SphericalCode.from_points(e8.points, name="e8").structure.kind == "none"


def test_descriptions_are_frozen():
    st = get_code("bsq-8").structure
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.dim = 3
    with pytest.raises(ValueError, match="e8"):
        RootStructure("e7", np.zeros((1, 7), np.int64), 1.0)


def test_leech_shell_is_the_layout_order():
    C = get_code("leech")
    st = C.structure
    assert isinstance(st, LeechShellStructure)
    assert st.vectors is leech_shell1() and st.int_scale == pytest.approx(32**-0.5)
    k = np.arange(0, C.size, 997)
    np.testing.assert_array_equal(C.vectors(k), st.vectors[k] * st.int_scale)


@pytest.mark.parametrize("name", ["e8", "d4"])
def test_roots_integer_form_gives_the_points(name):
    C = get_code(name)
    st = C.structure
    assert isinstance(st, RootStructure) and st.lattice == name
    np.testing.assert_array_equal(st.vectors * st.int_scale, C.points)


@pytest.mark.parametrize("d", [2, 8, 13])
def test_sign_convention_is_the_codes(d):
    """Codeword ``2^b(i)`` has exactly coordinate ``i`` negative (and codeword 0 none)."""
    C = get_code(f"bsq-{d}")
    st = C.structure
    assert isinstance(st, SignStructure) and st.dim == d
    assert (C.vectors(0) > 0).all() == (st.negative_bit == 1)
    for i in range(d):
        b = i if st.little_endian else d - 1 - i
        neg = C.vectors(1 << b) < 0
        want = np.zeros(d, bool)
        want[i] = True
        assert np.array_equal(neg, want if st.negative_bit == 1 else ~want)


@pytest.mark.parametrize("name", ["leech-4600", "leech-891"])
def test_leech_subset_lift_turns_code_products_into_shell_products(name, rng_seed):
    """<c_k, x> = λ <u_k, x L> with one λ > 0 for all k, u_k the k-th member of the subset."""
    C = get_code(name)
    st = C.structure
    assert isinstance(st, LeechSubsetStructure)
    assert st.lift.shape == (C.dim, 24) and not st.lift.flags.writeable
    U = leech_shell1()[st.subset.leech_index].astype(np.float64)  # (N, 24)
    x = np.random.default_rng(rng_seed).standard_normal((5, C.dim))
    code = (x @ C.points.T).ravel()
    shell = ((x @ st.lift) @ U.T).ravel()
    lam = (code @ shell) / (shell @ shell)
    assert lam > 0
    np.testing.assert_allclose(code, lam * shell, rtol=0, atol=1e-12 * np.abs(code).max())
