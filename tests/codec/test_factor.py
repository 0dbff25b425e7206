"""Index factorisations: bijections on every index, and the Leech one agrees with the shapes
of the shell (checked on the integer coordinates of lattiq.lattices.leech)."""

from __future__ import annotations

import numpy as np
import pytest

from lattiq.codec.factor import (
    digits_factorisation,
    factorisation_for,
    from_params,
    leech_factorisation,
)


@pytest.mark.parametrize("size", [1, 2, 24, 240, 1000, 4097, 262144, 196560])
def test_digits_is_a_bijection(size):
    f = digits_factorisation(size)
    rng = np.random.default_rng(size)
    idx = np.unique(np.concatenate([[0, size - 1], rng.integers(0, size, 2000)]))
    seen = set()
    for v in idx.tolist():
        j, a, b = f.split(v)
        o, n, m = f.branches[j]
        assert 0 <= a < n and 0 <= b < m and f.join(j, a, b) == v
        seen.add((j, a, b))
    assert len(seen) == len(idx)
    assert max(max(n, m) for _, n, m in f.branches) <= int(np.ceil(np.sqrt(size))) + 1
    assert from_params(f.params()) == f


def test_leech_digits_are_the_shell_structure():
    from lattiq.lattices.golay import golay_code
    from lattiq.lattices.leech import leech_shell1

    f = leech_factorisation()
    x = leech_shell1().astype(np.int64)  # (196560, 24)
    G = golay_code()
    rng = np.random.default_rng(0)
    for v in rng.integers(0, 196560, 3000).tolist() + [0, 1103, 1104, 98255, 98256, 196559]:
        j, a, b = f.split(v)
        assert f.join(j, a, b) == v
        row = x[v]
        if j == 0:  # (±4², 0²²): a is the pair rank, b the two signs
            pos = np.flatnonzero(row)
            assert set(np.abs(row[pos])) == {4} and len(pos) == 2
            from lattiq.lattices.leech import pair_rank_table

            assert pair_rank_table()[pos[0], pos[1]] == a
            assert b == 2 * (row[pos[0]] < 0) + (row[pos[1]] < 0)
        elif j == 1:  # (±2⁸) on octad a
            assert np.array_equal(np.flatnonzero(row), np.sort(G.octads[a]))
            assert set(np.abs(row[row != 0])) == {2}
        else:  # (∓3, ±1²³): a the Golay codeword, b the special position
            assert abs(row[b]) == 3
            signs = (row < 0).astype(np.uint8)
            signs[b] ^= 1  # the special position carries the opposite sign
            assert np.array_equal(signs, G.codewords[a])
    assert from_params(f.params()) == f


def test_factorisation_is_chosen_from_the_codebook():
    from lattiq.models.tokenizer import Tokenizer, tokenizer_preset

    def tok(code, kind="spherical", scales=None):
        return Tokenizer(tokenizer_preset("tiny", image_size=16, patch_size=4, width=32, depth=1,
                                          heads=2, quantizer={"code": code, "kind": kind,
                                                              "scales": scales}))

    assert factorisation_for(tok("leech")).name == "leech"
    assert factorisation_for(tok("leech", scales=[1, 2, 4])).name == "leech"
    assert factorisation_for(tok("random-24-196560")).name == "digits"
    assert factorisation_for(tok("bsq-10", kind="bsq")).name == "digits"


def test_bad_params():
    for p in ({"name": "leech", "size": 5}, {"name": "zip", "size": 5}, {"name": "digits"}, 3):
        with pytest.raises(ValueError):
            from_params(p)
