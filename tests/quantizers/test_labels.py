"""Factorized Leech labels: the integer table and the closed-form inverse."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.quantizers import SphericalQuantizer, labels_to_indices, leech_labels


def test_labels_are_integer_coordinates():
    idx = torch.arange(196560)
    lab = leech_labels(idx)
    assert lab.dtype == torch.int64 and lab.shape == (196560, 24)
    assert lab.min() == -4 and lab.max() == 4
    assert torch.equal((lab * lab).sum(1), torch.full((196560,), 32))
    assert torch.equal(labels_to_indices(lab), idx)  # exhaustive round trip


def test_labels_match_quantizer_codes():
    q = SphericalQuantizer("leech")
    out = q(torch.randn(6, 5, 24))
    lab = leech_labels(out.indices)
    assert lab.shape == (6, 5, 24)
    torch.testing.assert_close(lab.float() / np.sqrt(32.0), out.codes, rtol=0, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 196559), min_size=1, max_size=20))
def test_round_trip_property(ks):
    idx = torch.tensor(ks)
    assert torch.equal(labels_to_indices(leech_labels(idx)), idx)


def test_invalid_labels_raise():
    lab = leech_labels(torch.tensor([100000]))  # shape (∓3, ±1²³)
    bad = lab.clone()
    j = int((bad[0].abs() == 1).nonzero()[0])
    bad[0, j] = -bad[0, j]  # one sign flip leaves the Golay code
    with pytest.raises(ValueError, match="not .*Leech|do not form"):
        labels_to_indices(torch.ones(3, 24, dtype=torch.long))
    with pytest.raises(ValueError, match="not .*Leech|do not form"):
        labels_to_indices(bad)
    with pytest.raises(ValueError, match=r"\{-4"):
        labels_to_indices(torch.full((1, 24), 5))
    with pytest.raises(ValueError, match="last dimension 24"):
        labels_to_indices(torch.zeros(2, 23, dtype=torch.long))
    with pytest.raises(TypeError):
        labels_to_indices(torch.zeros(1, 24))
    with pytest.raises(ValueError, match="196560"):
        leech_labels(torch.tensor([196560]))
    with pytest.raises(TypeError):
        leech_labels(torch.tensor([1.0]))


def test_rank_matches_dictionary_oracle_on_near_codewords(rng_seed):
    """Valid and invalid rows mixed: the closed form agrees with a lookup in the shell."""
    from lattiq.lattices.leech import leech_shell1
    from lattiq.quantizers.labels import _rank

    S = leech_shell1()
    table = {row.tobytes(): k for k, row in enumerate(S)}
    rng = np.random.default_rng(rng_seed)
    base = S[rng.integers(0, 196560, 3000)].astype(np.int64)
    # perturb half of the rows: a sign flip, a swap of two coordinates or a ±1 change
    for r in range(0, 3000, 2):
        i, j = rng.choice(24, 2, replace=False)
        kind = r % 3
        if kind == 0:
            base[r, i] = -base[r, i]
        elif kind == 1:
            base[r, [i, j]] = base[r, [j, i]]
        else:
            base[r, i] = np.clip(base[r, i] + rng.choice([-1, 1]), -4, 4)
    want = np.array([table.get(row.astype(np.int8).tobytes(), -1) for row in base])
    got = _rank(torch.as_tensor(base)).numpy()
    assert np.array_equal(got, want)
    assert (want >= 0).sum() > 1500 and (want < 0).sum() > 200
