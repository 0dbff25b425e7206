"""Probability models of the token stream: the common interface, the registry, ``uniform``.

A model (a *prior* over token indices) walks the tokens of an image in a fixed order and
hands each group of symbols, with its probability table, to a
:class:`~lattiq.codec.entropy.SymbolCoder`. The same method does both directions (the coder
takes the symbols while encoding and returns them while decoding), so the tables the two
sides use come from the same code on the same, already-decoded, inputs.

Models, from the simplest to the strongest:

* ``uniform`` — every index equally likely: ``log2 K`` bits a token, the fixed-length rate
  (without rounding up to whole bits);
* ``unigram`` — a static per-scale table of index frequencies fitted on training tokens
  (:mod:`lattiq.codec.unigram`);
* ``context`` — adaptive counts conditioned on already-decoded neighbours
  (:mod:`lattiq.codec.context`);
* ``var`` — the trained next-scale generator as the prior (:mod:`lattiq.codec.var_prior`).
"""

from __future__ import annotations

import numpy as np

from .container import canonical_json, sha256_hex
from .entropy import SymbolCoder
from .layout import TokenLayout

__all__ = ["PRIORS", "Prior", "UniformPrior"]

#: Model names, in order of strength.
PRIORS = ("uniform", "unigram", "context", "var")


class Prior:
    """Interface of a probability model over token indices."""

    name = "prior"

    def params(self) -> dict:
        """JSON parameters written to the file header (enough to rebuild the model with its
        stored resources: a table, a generator)."""
        return {}

    def fingerprint(self) -> str:
        """SHA-256 of everything the probabilities depend on (parameters and weights)."""
        return sha256_hex(canonical_json({"name": self.name, "params": self.params()}))

    def check_layout(self, layout: TokenLayout) -> None:
        """Raise ``ValueError`` if the model cannot code tokens of this layout."""

    def code(self, coder: SymbolCoder, layout: TokenLayout,
             tokens: list[np.ndarray] | None) -> list[np.ndarray]:  # fmt: skip
        """Code all tokens (encoding: ``tokens`` given; decoding: ``None``); returns them."""
        raise NotImplementedError


class UniformPrior(Prior):
    r"""Every index equally likely: :math:`p(v) = 1/K`, so ``log2 K`` bits a token."""

    name = "uniform"

    def __init__(self, codebook_size: int):
        self.codebook_size = int(codebook_size)

    def params(self) -> dict:
        return {"codebook_size": self.codebook_size}

    def check_layout(self, layout: TokenLayout) -> None:
        if layout.codebook_size != self.codebook_size:
            raise ValueError(f"uniform model is for {self.codebook_size} codes, the "
                             f"tokenizer has {layout.codebook_size}")

    def code(self, coder, layout, tokens):
        out = []
        for k, s in enumerate(layout.scales):
            flat = None if tokens is None else tokens[k].reshape(-1)
            got = coder.code_uniform(self.codebook_size, flat, layout.tiles * s * s)
            out.append(got.reshape(layout.tiles, s, s))
        return out
