"""The Leech shell layout: every table against an independent construction from the Golay
code, the index helpers against the documented vectors, and one owner for the order (no
other library module spells its numbers or rebuilds its tables)."""

from __future__ import annotations

import ast
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

import lattiq.lattices.leech_layout as L
from lattiq.lattices.golay import golay_code
from lattiq.lattices.leech import leech_shell1, leech_shell1_index

G = golay_code()
LAY = L.leech_layout()
PKG = Path(L.__file__).resolve().parents[1]


def _bits_of_bytes(b: np.ndarray) -> np.ndarray:
    """(n, 3) uint8 -> (n, 24) bits, bit i of byte j = coordinate 8j + i."""
    return np.unpackbits(np.ascontiguousarray(b), axis=1, bitorder="little")


def test_counts_and_offsets():
    weights = G.codewords.sum(axis=1)
    assert L.N_PAIRS == math.comb(24, 2) == 276
    assert L.N_OCTADS == int((weights == 8).sum()) == 759
    assert L.N_CODEWORDS == len(G.codewords) == 4096
    assert L.SHAPE_OFFSETS == (0, 1104, 98256, 196560) == LAY.offsets
    assert L.OFFSET_C - L.OFFSET_B == 759 * 2**7  # even sign patterns of 8 signs
    assert L.SHELL_SIZE - L.OFFSET_C == 4096 * 24 == LAY.size - L.OFFSET_C


def test_cached_and_read_only():
    assert L.leech_layout() is LAY
    for name, value in vars(LAY).items():
        if isinstance(value, np.ndarray):
            assert not value.flags.writeable, name
            assert value.flags.c_contiguous, name
    with pytest.raises(AttributeError):
        LAY.size = 3  # frozen


def test_pairs_are_lexicographic():
    pairs = list(itertools.combinations(range(24), 2))
    assert LAY.pairs.tolist() == [list(p) for p in pairs]
    for r, (i, j) in enumerate(pairs):
        assert LAY.pair_rank[i, j] == LAY.pair_rank[j, i] == r
    assert (np.diag(LAY.pair_rank) == -1).all()


def test_octad_tables():
    oct_words = [k for k in range(4096) if G.codewords[k].sum() == 8]  # codeword order
    assert LAY.octads.tolist() == [np.nonzero(G.codewords[k])[0].tolist() for k in oct_words]
    assert np.array_equal(LAY.octad_mask, G.codewords[oct_words])
    assert np.array_equal(_bits_of_bytes(LAY.octad_bytes), LAY.octad_mask)
    inv = LAY.octad_of_codeword
    assert sorted(inv[inv >= 0].tolist()) == list(range(759))
    for o, k in enumerate(oct_words):
        assert inv[k] == o
    assert (inv[[k for k in range(4096) if k not in set(oct_words)]] == -1).all()


def test_sign_patterns():
    P = LAY.sign_patterns
    assert P.shape == (128, 8) and set(np.unique(P).tolist()) == {-1, 1}
    assert ((P < 0).sum(axis=1) % 2 == 0).all()
    assert len({tuple(r) for r in P.tolist()}) == 128
    for r in range(128):
        assert all((P[r, q] < 0) == bool((r >> q) & 1) for q in range(7))
        assert int((P[r] < 0).astype(np.int64) @ LAY.sign_rank_weights) == r


def test_codeword_tables():
    assert np.array_equal(LAY.codewords, G.codewords)
    assert np.array_equal(_bits_of_bytes(LAY.codeword_bytes), G.codewords)
    assert np.array_equal(LAY.codeword_signs, 1 - 2 * G.codewords.astype(np.int64))
    k = G.codewords.astype(np.int64) @ LAY.codeword_index_weights
    assert np.array_equal(k, np.arange(4096))
    assert np.array_equal(k, G.index(G.codewords))


def test_sextet_and_cosets():
    cols = LAY.sextet_cols
    assert sorted(cols.ravel().tolist()) == list(range(24)) and cols[0].tolist() == [0, 1, 2, 3]
    octad_set = {tuple(o) for o in LAY.octads.tolist()}
    for i, j in itertools.combinations(range(6), 2):  # a sextet: any two tetrads, an octad
        assert tuple(sorted(cols[i].tolist() + cols[j].tolist())) in octad_set
    assert sorted(LAY.coset_words.ravel().tolist()) == list(range(4096))
    pats = (G.codewords.astype(np.int64)[:, cols] << np.arange(4)).sum(axis=2)  # (4096, 6)
    for c in range(128):
        g = LAY.coset_parity[c]
        for k, w in enumerate(LAY.coset_words[c]):
            for j in range(6):
                ref = 2 * LAY.coset_pair[c, j]
                want = ref ^ 15 if LAY.coset_flip[g, j, k] else ref
                assert pats[w, j] == want
            assert LAY.coset_flip[g, :, k].sum() % 2 == g
    assert (LAY.coset_pair[:, :2].reshape(32, 4, 2) == LAY.coset_pair[::4, None, :2]).all()


def test_octad_rows():
    ids = LAY.octad_row_ids
    assert sorted(ids[ids >= 0].tolist()) == list(range(759))
    assert [int((r >= 0).sum()) for r in ids[:-1]].count(6) == 64
    assert [int((r >= 0).sum()) for r in ids[:-1]].count(8) == 45
    assert int((ids[-1] >= 0).sum()) == 15
    octad_words = np.nonzero(G.codewords.sum(axis=1) == 8)[0]
    pats = (G.codewords.astype(np.int64)[:, LAY.sextet_cols] << np.arange(4)).sum(axis=2)
    subcode = set(LAY.coset_words[np.all(LAY.coset_pair == 0, axis=1)][0].tolist())
    for r in range(110):
        words = (set(LAY.coset_words[LAY.octad_cosets[r]].tolist()) if r < 109 else subcode)
        for e, o in enumerate(ids[r]):
            if o < 0:
                continue
            k = octad_words[o]
            assert k in words
            for j in range(6):
                ref = LAY.octad_row_ref[r, j] - 16 * j
                assert pats[k, j] == (ref ^ 15 if LAY.octad_row_flip[r, j, e] else ref)


def test_index_helpers_give_the_documented_vectors(rng_seed):
    S = leech_shell1()
    rng = np.random.default_rng(rng_seed)
    for _ in range(50):
        p, si, sj = int(rng.integers(276)), int(rng.integers(2)), int(rng.integers(2))
        i, j = LAY.pairs[p]
        v = np.zeros(24, np.int64)
        v[i], v[j] = 4 * (1 - 2 * si), 4 * (1 - 2 * sj)
        assert np.array_equal(S[L.index_a(p, si, sj)], v)
        o, r = int(rng.integers(759)), int(rng.integers(128))
        v = np.zeros(24, np.int64)
        v[LAY.octads[o]] = 2 * LAY.sign_patterns[r]
        assert np.array_equal(S[L.index_b(o, r)], v)
        k, t = int(rng.integers(4096)), int(rng.integers(24))
        v = 1 - 2 * G.codewords[k].astype(np.int64)
        v[t] *= -3
        assert np.array_equal(S[L.index_c(k, t)], v)
        assert leech_shell1_index(v) == L.index_c(k, t)


def _library_files():
    for f in sorted(PKG.rglob("*.py")):
        yield f, ast.parse(f.read_text(), filename=str(f))


#: the layout's numbers; 759 and 4096 are too common elsewhere to be told apart by value
_LAYOUT_NUMBERS = {1104, 1103, 97152, 98255, 98256, 98304, 196559, 196560}


def test_one_owner_of_the_layout():
    """No library module but the layout writes its offsets and sizes as literals (in code:
    docstrings may state them; the Leech strategy's known invariants include the kissing
    number 196,560), and none but the layout, the Golay
    module and the lattice's basis and warm-up rebuild anything from ``golay_code()``."""
    owners = {"lattices/leech_layout.py", "lattices/golay.py"}
    known = {"lattices/families.py": {196560}}  # LeechFamily.known
    golay_users = owners | {"lattices/leech.py", "warmup.py"}
    literals, calls = [], []
    for f, tree in _library_files():
        rel = f.relative_to(PKG).as_posix()
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and type(node.value) is int
                    and node.value in _LAYOUT_NUMBERS and rel not in owners
                    and node.value not in known.get(rel, ())):
                literals.append(f"{rel}:{node.lineno} {node.value}")
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "golay_code"
                    and rel not in golay_users):
                calls.append(f"{rel}:{node.lineno}")
    assert not literals, literals
    assert not calls, calls
