"""The ``unigram`` model: a static per-scale table of index frequencies.

Shape legend: ``K`` scales, ``V`` codebook size.

:func:`fit_unigram` counts the indices a tokenizer gives to training images (tiled exactly
as :func:`~lattiq.codec.compress` tiles them), scale by scale. :func:`save_unigram` stores
the counts beside the tokenizer as ``unigram.safetensors`` (one int64 tensor ``counts``
(K, V)) and ``unigram.json`` (the tokenizer fingerprint it belongs to, the data it was
fitted on, the smoothing, and the SHA-256 of the counts and of the file);
:func:`load_unigram` checks all of that. The coding table is

.. math:: p_k(v) \\propto c_k(v) + \\alpha

(additive smoothing, Lidstone 1920), so an index never seen in training is still codable;
:math:`\\alpha` is a multiple of 1/64 and the table is built in integer arithmetic.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from .container import sha256_hex
from .entropy import quantize_counts
from .image import to_tiles
from .layout import TokenLayout
from .priors import Prior
from .tokens import encode_tiles, scale_sides

__all__ = ["UNIGRAM_FILES", "UnigramPrior", "fit_unigram", "load_unigram", "save_unigram"]

#: File names beside the tokenizer: the counts and their description.
UNIGRAM_FILES = ("unigram.safetensors", "unigram.json")
_ALPHA_DEN = 64


def _counts_sha256(counts: np.ndarray) -> str:
    return sha256_hex(np.ascontiguousarray(counts, dtype="<i8").tobytes())


def _check_alpha(alpha: float) -> int:
    num = round(float(alpha) * _ALPHA_DEN)
    if not (0 < num <= 1 << 20) or abs(num - float(alpha) * _ALPHA_DEN) > 1e-9:
        raise ValueError(f"alpha must be a positive multiple of 1/{_ALPHA_DEN}, got {alpha}")
    return num


class UnigramPrior(Prior):
    """Per-scale static table :math:`p_k(v) \\propto c_k(v) + \\alpha`.

    Parameters
    ----------
    counts : int array (K, V)
        Index counts per scale.
    alpha : float
        Pseudo-count added to every index (a multiple of 1/64).
    tokenizer_sha256 : str
        Fingerprint of the tokenizer the counts belong to.
    """

    name = "unigram"

    def __init__(self, counts: np.ndarray, alpha: float = 0.5, tokenizer_sha256: str = ""):
        c = np.asarray(counts)
        if c.ndim != 2 or c.dtype.kind not in "iu" or (c < 0).any():
            raise ValueError("unigram counts must be a non-negative integer array (K, V)")
        self.counts = c.astype(np.int64)
        self.alpha = float(alpha)
        num = _check_alpha(alpha)
        self.tokenizer_sha256 = str(tokenizer_sha256)
        self.tables = quantize_counts(self.counts * _ALPHA_DEN + num)

    def params(self) -> dict:
        return {"alpha": self.alpha, "counts_sha256": _counts_sha256(self.counts),
                "shape": list(self.counts.shape)}  # fmt: skip

    def check_layout(self, layout: TokenLayout) -> None:
        want = (len(layout.scales), layout.codebook_size)
        if self.counts.shape != want:
            raise ValueError(f"unigram table has shape {self.counts.shape}; this tokenizer "
                             f"needs {want} (scales, codebook size)")

    def code(self, coder, layout, tokens):
        out = []
        for k, s in enumerate(layout.scales):
            flat = None if tokens is None else tokens[k].reshape(-1)
            got = coder.code_iid(self.tables[k], flat, layout.tiles * s * s)
            out.append(got.reshape(layout.tiles, s, s))
        return out


def fit_unigram(tokenizer, images: Iterable[np.ndarray]) -> np.ndarray:
    """Count token indices over images (uint8 (H, W, C) each, any size): (K, V) int64."""
    size, v = tokenizer.config.image_size, tokenizer.codebook_size
    counts = np.zeros((len(scale_sides(tokenizer)), v), dtype=np.int64)
    pending: list[np.ndarray] = []

    def flush():
        if pending:
            toks = encode_tiles(tokenizer, np.concatenate(pending))
            for k, t in enumerate(toks):
                counts[k] += np.bincount(t.reshape(-1), minlength=v)
            pending.clear()

    n = 0
    for img in images:
        tiles, _, _ = to_tiles(np.asarray(img, dtype=np.uint8), size)
        pending.append(tiles)
        n += 1
        if sum(len(p) for p in pending) >= 256:
            flush()
    flush()
    if n == 0:
        raise ValueError("no images to fit the unigram table on")
    return counts


def save_unigram(directory: str | os.PathLike, counts: np.ndarray, *, tokenizer_sha256: str,
                 tokenizer_name: str, alpha: float = 0.5, data: dict | None = None) -> Path:
    """Write ``unigram.safetensors`` and ``unigram.json`` into ``directory``; returns the
    JSON's path."""
    _check_alpha(alpha)
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    c = np.ascontiguousarray(counts, dtype=np.int64)
    st, js = d / UNIGRAM_FILES[0], d / UNIGRAM_FILES[1]
    tmp = st.with_name(f".{st.name}.tmp-{os.getpid()}")
    save_file({"counts": c}, str(tmp))
    os.replace(tmp, st)
    meta = {"format": "lattiq-unigram", "version": 1, "tokenizer_sha256": tokenizer_sha256,
            "tokenizer_name": tokenizer_name, "alpha": float(alpha), "shape": list(c.shape),
            "tokens": int(c.sum()), "data": data or {}, "counts_sha256": _counts_sha256(c),
            "file_sha256": sha256_hex(st.read_bytes())}  # fmt: skip
    tmp = js.with_name(f".{js.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, js)
    return js


def load_unigram(path: str | os.PathLike, tokenizer_sha256: str | None = None) -> UnigramPrior:
    """Read a table written by :func:`save_unigram` (``path``: its directory or its JSON).

    Raises ``ValueError`` if a hash does not match, or if ``tokenizer_sha256`` is given and
    the table was fitted for another tokenizer.
    """
    p = Path(path)
    js = p / UNIGRAM_FILES[1] if p.is_dir() else p
    if not js.is_file():
        raise FileNotFoundError(f"no unigram table at {str(js)!r}; fit one with "
                                "`lattiq fit-unigram --tokenizer RUN`")
    try:
        meta = json.loads(js.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{js} is not a unigram description ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != "lattiq-unigram":
        raise ValueError(f"{js} is not a lattiq unigram description")
    if meta.get("version") != 1:
        raise ValueError(f"{js}: unigram format version {meta.get('version')!r} is not 1")
    st = js.with_name(UNIGRAM_FILES[0])
    if not st.is_file():
        raise FileNotFoundError(f"{js} has no {UNIGRAM_FILES[0]} beside it")
    if sha256_hex(st.read_bytes()) != meta.get("file_sha256"):
        raise ValueError(f"{st} does not match the SHA-256 in {js.name} (changed or corrupted)")
    try:
        counts = load_file(str(st))["counts"]
    except (SafetensorError, KeyError, OSError) as err:
        raise ValueError(f"cannot read the counts in {st}: {err}") from None
    if _counts_sha256(counts) != meta.get("counts_sha256"):
        raise ValueError(f"the counts in {st} do not match their SHA-256")
    if tokenizer_sha256 is not None and meta.get("tokenizer_sha256") != tokenizer_sha256:
        raise ValueError(f"the unigram table {js} was fitted for another tokenizer "
                         f"(fingerprint {str(meta.get('tokenizer_sha256'))[:12]}..., this one "
                         f"is {tokenizer_sha256[:12]}...); refit it with `lattiq fit-unigram`")
    return UnigramPrior(counts, meta.get("alpha", 0.5), meta.get("tokenizer_sha256", ""))

