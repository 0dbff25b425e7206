"""Compress an image to a ``.ltq`` file with a tokenizer and a probability model, and back.

Shape legend: ``H, W`` image size, ``C`` channels, ``N`` tiles, ``s_k`` scale sides.

``compress``: image (uint8 (H, W, C), already in the tokenizer's channels) -> ``S × S``
tiles (edge padding) -> token indices (the tokenizer's encoder and quantizer) -> range
coder under the probability model -> header + payload (:mod:`lattiq.codec.container`).
``decompress`` checks the header against the tokenizer and the model it is given (their
SHA-256 fingerprints), decodes the tokens, checks their CRC-32, and decodes them with the
tokenizer: the result equals, bit for bit, the tokenizer's own reconstruction of the
tiles (:func:`lattiq.codec.tokens.decode_tiles`), cropped to the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .container import CodecFileError, pack, unpack
from .context import ContextPrior
from .entropy import PRECISION, SymbolCoder
from .factor import factorisation_for, from_params
from .image import DEFAULT_PAD, MAX_PIXELS, PADS, from_tiles, tile_grid, to_tiles
from .layout import TokenLayout, tokens_crc32
from .priors import PRIORS, Prior, UniformPrior
from .tokens import decode_tiles, encode_tiles, scale_sides, tokenizer_sha256
from .var_prior import VARPrior

__all__ = ["Codec", "CompressResult", "make_prior", "prior_from_header", "read_header"]

_CODER = "constriction-range"
_MODES = {1: "L", 3: "RGB"}


@dataclass
class CompressResult:
    """A compressed image and what it cost.

    Attributes
    ----------
    data : bytes
        The whole file.
    payload_bits : int
        Bits of the entropy-coded stream alone (the range coder's words).
    model_bits : float
        The model's cross-entropy of the tokens (the ideal code length).
    tokens : list of ndarray
        Token indices per scale, (N, s_k, s_k).
    header : dict
    """

    data: bytes
    payload_bits: int
    model_bits: float
    tokens: list
    header: dict

    @property
    def file_bits(self) -> int:
        return 8 * len(self.data)


def make_prior(name: str, tokenizer, *, unigram=None, var=None, var_name: str = "",
               label: int | None = None, factor_params: dict | None = None) -> Prior:
    """Build probability model ``name`` for a tokenizer.

    ``unigram``: a :class:`~lattiq.codec.unigram.UnigramPrior` (``load_unigram``); ``var``: a
    loaded generator (``lattiq.models.sample.load_generator``); ``factor_params``: the context
    model's factorisation as a header states it (default: the one that fits the codebook).
    """
    if name == "uniform":
        return UniformPrior(tokenizer.codebook_size)
    if name == "unigram":
        if unigram is None:
            raise ValueError("the unigram model needs its table (fit one with "
                             "`lattiq fit-unigram --tokenizer RUN`)")
        return unigram
    if name == "context":
        f = from_params(factor_params) if factor_params else factorisation_for(tokenizer)
        return ContextPrior(f)
    if name == "var":
        if var is None:
            raise ValueError("the var model needs a trained generator (--var RUN)")
        return VARPrior(var, tokenizer, label=label, name=var_name)
    raise ValueError(f"unknown probability model {name!r}; choose one of {', '.join(PRIORS)}")


def prior_from_header(header: dict, tokenizer, *, unigram=None, var=None) -> Prior:
    """The probability model a file header names, rebuilt from its parameters.

    ``unigram`` / ``var``: the stored table / loaded generator, for those models (their
    fingerprints are checked against the header when decoding).
    """
    m = header["model"]
    name, params = m["name"], m["params"]
    if name == "context":
        return ContextPrior.from_params(params)
    if name == "var":
        if var is None:
            raise ValueError("the file was coded with the var model: pass the generator "
                             "(--var RUN)")
        label = params.get("label")
        if not isinstance(label, int) or isinstance(label, bool):
            raise CodecFileError("corrupted header: the var model's label is not an integer")
        nc = var.cfg.num_classes
        return make_prior("var", tokenizer, var=var, var_name=str(params.get("var", "")),
                          label=None if label == nc else label)
    return make_prior(name, tokenizer, unigram=unigram)


def read_header(data: bytes) -> dict:
    """The checked header of a file (see :func:`lattiq.codec.container.unpack`)."""
    return unpack(data)[0]


class Codec:
    """A tokenizer and a probability model, ready to compress and decompress.

    Parameters
    ----------
    tokenizer : lattiq.models.Tokenizer
        In eval mode, on the CPU.
    prior : Prior
        A model of :data:`lattiq.codec.priors.PRIORS` (:func:`make_prior`).
    tokenizer_name : str
        How the header names the tokenizer (its run directory), for the decoder's messages
        and as its default location.
    pad : str
        How :meth:`compress` pads an image to whole tiles (:data:`lattiq.codec.image.PADS`;
        the default centres it). :meth:`decompress` follows the file's header.
    """

    def __init__(self, tokenizer, prior: Prior, tokenizer_name: str = "",
                 pad: str = DEFAULT_PAD):
        if pad not in PADS:
            raise ValueError(f"padding must be one of {PADS}, got {pad!r}")
        self.pad = pad
        self.tokenizer = tokenizer
        self.prior = prior
        self.tokenizer_name = str(tokenizer_name)
        self.tokenizer_sha256 = tokenizer_sha256(tokenizer)
        self.size = int(tokenizer.config.image_size)
        self.channels = int(tokenizer.config.channels)
        self.scales = scale_sides(tokenizer)

    def layout(self, rows: int, cols: int) -> TokenLayout:
        return TokenLayout(self.scales, rows, cols, int(self.tokenizer.codebook_size))

    def reconstruct(self, image: np.ndarray) -> np.ndarray:
        """The tokenizer's reconstruction of ``image`` (what decompress returns)."""
        arr = self._check_image(image)
        tiles, r, q = to_tiles(arr, self.size, self.pad)
        out = decode_tiles(self.tokenizer, encode_tiles(self.tokenizer, tiles))
        return from_tiles(out, r, q, arr.shape[0], arr.shape[1], self.pad)

    def _check_image(self, image: np.ndarray) -> np.ndarray:
        a = np.asarray(image)
        if a.ndim == 2 and self.channels == 1:
            a = a[:, :, None]
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != self.channels:
            raise ValueError(f"expected a uint8 image (H, W, {self.channels}) for this "
                             f"tokenizer, got {a.dtype} {a.shape}")
        if a.shape[0] < 1 or a.shape[1] < 1 or a.shape[0] * a.shape[1] > MAX_PIXELS:
            raise ValueError(f"image size {a.shape[1]}x{a.shape[0]} is out of range")
        return a

    def compress(self, image: np.ndarray) -> CompressResult:
        """uint8 (H, W, C) -> a compressed file."""
        arr = self._check_image(image)
        h, w = arr.shape[:2]
        tiles, r, q = to_tiles(arr, self.size, self.pad)
        layout = self.layout(r, q)
        self.prior.check_layout(layout)
        tokens = layout.check(encode_tiles(self.tokenizer, tiles))
        coder = SymbolCoder()
        self.prior.code(coder, layout, tokens)
        words = coder.finish()
        payload = words.astype(">u4").tobytes()
        header = {
            "tokenizer": {"name": self.tokenizer_name, "sha256": self.tokenizer_sha256,
                          "image_size": self.size, "channels": self.channels,
                          "codebook_size": layout.codebook_size, "scales": list(self.scales)},
            "image": {"width": w, "height": h, "mode": _MODES[self.channels]},
            "tiling": {"tile": self.size, "rows": r, "cols": q, "pad": self.pad},
            "model": {"name": self.prior.name, "params": self.prior.params(),
                      "sha256": self.prior.fingerprint()},
            "coder": {"name": _CODER, "precision": PRECISION},
            "tokens": {"count": layout.count, "crc32": tokens_crc32(tokens)},
        }  # fmt: skip
        data = pack(header, payload)
        return CompressResult(data, 8 * len(payload), coder.bits, tokens, unpack(data)[0])

    def check_header(self, header: dict) -> TokenLayout:
        """Refuse a header this codec cannot decode exactly; returns the token layout."""
        t = header["tokenizer"]
        if t["sha256"] != self.tokenizer_sha256:
            theirs, mine = t["name"] or "unnamed", self.tokenizer_name or "unnamed"
            raise CodecFileError(
                f"this file was made with another tokenizer ({theirs}, fingerprint "
                f"{t['sha256'][:12]}...); the one given ({mine}) has fingerprint "
                f"{self.tokenizer_sha256[:12]}...")
        if (t["image_size"], t["channels"], t["codebook_size"], list(t["scales"])) != (
                self.size, self.channels, int(self.tokenizer.codebook_size), list(self.scales)):
            raise CodecFileError("corrupted header: tokenizer fields disagree with its "
                                 "fingerprint")
        im, tl = header["image"], header["tiling"]
        w, h = im["width"], im["height"]
        if w < 1 or h < 1 or w * h > MAX_PIXELS:
            raise CodecFileError(f"corrupted header: image size {w}x{h}")
        if im["mode"] != _MODES[self.channels]:
            raise CodecFileError(f"corrupted header: mode {im['mode']!r} for a "
                                 f"{self.channels}-channel tokenizer")
        if tl["tile"] != self.size or tl["pad"] not in PADS or (tl["rows"], tl["cols"]) != \
                tile_grid(h, w, self.size):  # fmt: skip
            raise CodecFileError("corrupted header: the tiling does not fit the image")
        c = header["coder"]
        if (c["name"], c["precision"]) != (_CODER, PRECISION):
            raise CodecFileError(f"unsupported coder {c['name']!r} at precision "
                                 f"{c['precision']}")
        m = header["model"]
        if m["name"] != self.prior.name:
            raise ValueError(f"the file was coded with the {m['name']!r} model; this codec "
                             f"has {self.prior.name!r}")
        if m["sha256"] != self.prior.fingerprint() or m["params"] != self.prior.params():
            raise CodecFileError(f"the {m['name']!r} model given differs from the one the "
                                 f"file was coded with (parameters or weights differ)")
        layout = self.layout(tl["rows"], tl["cols"])
        if header["tokens"]["count"] != layout.count:
            raise CodecFileError("corrupted header: token count does not match the tiling")
        return layout

    def decompress(self, data: bytes) -> np.ndarray:
        """A file -> uint8 (H, W, C), the tokenizer's reconstruction.

        Raises
        ------
        CodecFileError (a ValueError)
            The file is not ours, newer, truncated or corrupted, or was made with another
            tokenizer or model.
        """
        header, payload = unpack(data)
        layout = self.check_header(header)
        if len(payload) % 4:
            raise CodecFileError("corrupted file: the payload is not whole 32-bit words")
        words = np.frombuffer(payload, dtype=">u4").astype(np.uint32)
        self.prior.check_layout(layout)
        tokens = self.prior.code(SymbolCoder(words), layout, None)
        if tokens_crc32(tokens) != header["tokens"]["crc32"]:
            raise CodecFileError("decoded tokens fail their CRC-32 check: the probability "
                                 "model computed different probabilities than the encoder "
                                 "(another platform or torch build?) or the file is corrupted")
        tiles = decode_tiles(self.tokenizer, tokens)
        im = header["image"]
        return from_tiles(tiles, layout.rows, layout.cols, im["height"], im["width"],
                          header["tiling"]["pad"])
