"""The ``var`` model: the trained next-scale generator as the prior over tokens.

Shape legend: ``B`` tiles in a batch, ``l_k = s_k²`` tokens of scale ``k``, ``V`` codebook
size, ``d`` code dimension, ``D`` the generator's width.

A multi-scale tokenizer's tokens are coded scale by scale, coarse to fine, each tile an
image of its own: scale ``k``'s probabilities come from the generator given the
(already-decoded) scales ``< k`` (VAR, Tian et al. 2024),

.. math:: p(r_1, \\dots, r_K) = \\prod_k \\prod_{t \\in \\text{scale } k} p(r_{k,t} \\mid r_{<k}, y)

with the class label ``y`` the null label (unconditional; the label that classifier-free
guidance training drops to) unless a class is chosen. What the head gives:

* ``full`` softmax head: the categorical over all ``V`` codes;
* ``dit`` head (Leech): the 24 per-position label distributions, multiplied over a
  codeword's coordinates and renormalised over the 196,560 codewords
  (:func:`lattiq.models.heads.leech_codeword_log_probs`): exactly the distribution the head
  samples from;
* ``bits`` head (BSQ): each of the ``d`` index bits coded with its own Bernoulli
  probability (the head's factorisation is exact: every bit pattern is a codeword).

Both sides run the same scale-by-scale computation (KV cache, fixed batches, CPU, one
thread, deterministic algorithms; :func:`lattiq.codec.tokens.deterministic`) on the same
tokens, turn the float32 outputs into float64 probabilities with numpy and then into
integer tables; so the tables agree bit for bit on one machine and torch build. A file
compressed on one platform and decompressed on another may meet different float rounding
in the network; the token CRC in the header then makes decompression fail with an error
rather than give a wrong image.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from lattiq.models.contract import check_contract, tokenizer_contract
from lattiq.models.sample import next_scale_fn
from lattiq.models.var import KVCache
from lattiq.runtime.config import config_to_dict

from .container import canonical_json
from .entropy import quantize_logits, quantize_probs
from .layout import TokenLayout
from .priors import Prior
from .tokens import deterministic

__all__ = ["VARPrior", "var_sha256"]

#: Tiles per generator batch and rows per coder call (fixed: both sides batch alike).
TILE_BATCH = 64
ROWS = 8


def var_sha256(model) -> str:
    """SHA-256 of a generator's config and weights."""
    h = hashlib.sha256()
    h.update(canonical_json(config_to_dict(model.cfg)))
    for name, t in sorted(model.state_dict().items()):
        a = t.detach().cpu().contiguous()
        h.update(canonical_json([name, str(a.dtype), list(a.shape)]))
        h.update(a.view(torch.uint8).numpy().tobytes() if a.numel() else b"")
    return h.hexdigest()


class VARPrior(Prior):
    """The generator's next-scale probabilities (see the module docstring).

    Parameters
    ----------
    model : lattiq.models.VAR
        A trained generator, matched to the tokenizer's contract.
    tokenizer : lattiq.models.Tokenizer
        The multi-scale tokenizer (its quantizer gives the teacher-forcing inputs).
    label : int or None
        Class label to condition on; ``None`` uses the null (unconditional) label.
    name : str
        How the file header names the generator (its run directory).
    """

    name = "var"

    def __init__(self, model, tokenizer, label: int | None = None, name: str = ""):
        check_contract(model.cfg, tokenizer_contract(tokenizer), what="tokenizer")
        nc = model.cfg.num_classes
        if label is not None and not (isinstance(label, int) and 0 <= label < nc):
            raise ValueError(f"class label must be an integer in [0, {nc}), got {label!r}")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.label = nc if label is None else int(label)
        self.var_name = str(name)
        self.var_sha256 = var_sha256(model)
        self._next = next_scale_fn(tokenizer.quantizer)

    def params(self) -> dict:
        return {"var": self.var_name, "var_sha256": self.var_sha256,
                "head": self.model.cfg.head, "label": self.label}  # fmt: skip

    def check_layout(self, layout: TokenLayout) -> None:
        want = tuple(h for h, _ in self.model.cfg.scales)
        if tuple(layout.scales) != want:
            raise ValueError(f"the generator's scales {want} differ from the tokens' "
                             f"{tuple(layout.scales)}")

    # -- one scale's symbols -------------------------------------------------------------------

    def _code_scale(self, coder, h_ND: torch.Tensor, symbols: np.ndarray | None) -> np.ndarray:
        head = self.model.head
        n = h_ND.shape[0]
        if head.kind == "bits":
            bits = head.bits
            logp = head.log_probs(h_ND).double().numpy()  # (N, bits, 2)
            tables = quantize_probs(np.exp(logp)).reshape(n * bits, 2)
            sym = None
            if symbols is not None:
                sym = ((symbols[:, None] >> np.arange(bits)) & 1).reshape(-1)
            got = coder.code(tables, sym).reshape(n, bits)
            return (got << np.arange(bits)).sum(1).astype(np.int64)
        out = []
        for s in range(0, n, ROWS):
            h = h_ND[s : s + ROWS]
            if head.kind == "dit":
                scores = head.codeword_log_probs(head.log_probs(h))  # (rows, V)
            else:
                scores = head.log_probs(h)  # (rows, V) logits
            tables = quantize_logits(scores.double().numpy())
            out.append(coder.code(tables, None if symbols is None else symbols[s : s + ROWS]))
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    # -- all tokens ----------------------------------------------------------------------------

    def code(self, coder, layout, tokens):
        sides = layout.scales
        out = [np.zeros((layout.tiles, s, s), np.int64) for s in sides]
        with deterministic():
            for t0 in range(0, layout.tiles, TILE_BATCH):
                t1 = min(t0 + TILE_BATCH, layout.tiles)
                B = t1 - t0
                cond = self.model.class_embed(torch.full((B,), self.label, dtype=torch.long))
                cache = KVCache(self.model.cfg.depth)
                done: list[torch.Tensor] = []
                nxt = None
                for k, s in enumerate(sides):
                    hid = self.model.next_scale_hidden(k, cond, nxt, cache)
                    hid = hid.reshape(B * s * s, -1)
                    sym = None if tokens is None else tokens[k][t0:t1].reshape(-1)
                    got = self._code_scale(coder, hid, sym).reshape(B, s, s)
                    out[k][t0:t1] = got
                    done.append(torch.from_numpy(got))
                    if k + 1 < len(sides):
                        nxt = self._next(done)
        return out
