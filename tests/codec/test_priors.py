"""Encode -> decode identity of the token models on random layouts and tokens (hypothesis),
with both sides' tables compared bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.codec.context import ContextPrior
from lattiq.codec.entropy import SymbolCoder
from lattiq.codec.factor import digits_factorisation, leech_factorisation
from lattiq.codec.layout import TokenLayout
from lattiq.codec.priors import UniformPrior
from lattiq.codec.unigram import UnigramPrior


@settings(max_examples=40, deadline=None)
@given(
    scales=st.lists(st.integers(1, 4), min_size=1, max_size=3, unique=True).map(sorted),
    rows=st.integers(1, 3),
    cols=st.integers(1, 3),
    size=st.sampled_from([2, 7, 240, 1000, 196560]),
    model=st.sampled_from(["uniform", "unigram", "context"]),
    repeat=st.floats(0, 1),
    seed=st.integers(0, 2**31 - 1),
)
def test_models_round_trip(scales, rows, cols, size, model, repeat, seed):
    rng = np.random.default_rng(seed)
    layout = TokenLayout(tuple(scales), rows, cols, size)
    tokens = []
    for s in scales:
        t = rng.integers(0, size, (layout.tiles, s, s))
        same = rng.random(t.shape) < repeat  # runs of equal tokens
        t[same] = t.reshape(-1)[0]
        tokens.append(t)
    if model == "uniform":
        prior = UniformPrior(size)
    elif model == "unigram":
        prior = UnigramPrior(rng.integers(0, 5, (len(scales), size)), alpha=0.25)
    else:
        f = leech_factorisation() if size == 196560 and seed % 2 else digits_factorisation(size)
        prior = ContextPrior(f, increment=int(rng.integers(1, 64)))
    prior.check_layout(layout)
    te, td = [], []
    enc = SymbolCoder(trace=te)
    prior.code(enc, layout, layout.check(tokens))
    words = enc.finish()
    got = prior.code(SymbolCoder(words, trace=td), layout, None)
    assert all(np.array_equal(a, b) for a, b in zip(got, tokens, strict=True))
    assert len(te) == len(td) and all(a.tobytes() == b.tobytes() for a, b in zip(te, td,
                                                                                 strict=True))
    assert 32 * words.size <= enc.bits + 0.01 * enc.bits + 64
