"""The extended Golay code: constructed, checked against its known invariants."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lattiq.lattices import golay_code
from lattiq.lattices.golay import WEIGHT_DISTRIBUTION

G = golay_code()


def test_weight_distribution_is_known():
    assert G.weight_distribution() == WEIGHT_DISTRIBUTION == {0: 1, 8: 759, 12: 2576, 16: 759,
                                                               24: 1}


def test_shapes_and_systematic_form():
    assert G.generator.shape == (12, 24)
    assert (G.generator[:, :12] == np.eye(12)).all()
    assert G.codewords.shape == (4096, 24)
    assert G.octads.shape == (759, 8)
    assert len({tuple(r) for r in G.codewords}) == 4096


def test_parity_check_annihilates_code():
    assert not ((G.codewords.astype(int) @ G.parity_check.T.astype(int)) % 2).any()


def test_codeword_order_and_index():
    k = np.arange(4096)
    bits = (k[:, None] >> np.arange(12)) & 1
    assert (G.encode(bits) == G.codewords).all()
    assert (G.index(G.codewords) == k).all()


def test_octads_form_steiner_system():
    # S(5, 8, 24): every 5-set lies in exactly one octad
    masks = np.zeros((759, 24), dtype=bool)
    np.put_along_axis(masks, G.octads, True, axis=1)
    rng = np.random.default_rng(0)
    for _ in range(200):
        five = rng.choice(24, 5, replace=False)
        assert masks[:, five].all(axis=1).sum() == 1


def test_decode_corrects_every_pattern_up_to_three_errors():
    # exhaustive over all 2,325 error patterns of weight <= 3, on several codewords
    patterns = [()]
    for r in (1, 2, 3):
        patterns += list(itertools.combinations(range(24), r))
    E = np.zeros((len(patterns), 24), dtype=np.uint8)
    for i, p in enumerate(patterns):
        E[i, list(p)] = 1
    assert len(patterns) == 2325
    for c in G.codewords[[0, 1, 1234, 4095, 2048]]:
        words = E ^ c
        assert (G.decode(words) == c).all()


def test_decode_refuses_four_errors():
    w = G.codewords[7].copy()
    w[[0, 5, 9, 13]] ^= 1
    d = np.abs(G.codewords.astype(int) - w).sum(axis=1).min()
    if d == 4:
        with pytest.raises(ValueError, match="at least 4 errors"):
            G.decode(w)


@given(st.integers(0, 4095), st.lists(st.integers(0, 23), max_size=3, unique=True))
def test_decode_property(k, pos):
    w = G.codewords[k].copy()
    w[pos] ^= 1
    assert (G.decode(w) == G.codewords[k]).all()


def test_bad_input():
    with pytest.raises(ValueError, match="last dimension 12"):
        G.encode(np.zeros(11, int))
    with pytest.raises(ValueError, match="0 or 1"):
        G.encode(np.full(12, 2))
    with pytest.raises(ValueError, match="last dimension 24"):
        G.decode(np.zeros(23, int))
