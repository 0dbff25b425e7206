"""Entropy-coded token streams: a real image codec on top of a trained tokenizer.

``lattiq compress IMAGE -o FILE --tokenizer RUN [--model uniform|unigram|context|var]`` and
``lattiq decompress FILE -o IMAGE``. An image is tiled to the tokenizer's size, tokenized,
and the token indices are range-coded (with ``constriction``) under a probability model;
the file is a small versioned header plus the coded payload (:mod:`.container`).

Names are imported lazily (PEP 562), so that importing the package costs nothing until a
name is used; the commands are in :mod:`lattiq.commands.codec`.
"""

from __future__ import annotations

from lattiq import _lazy

_EXPORTS = {
    "Codec": ".codec",
    "CompressResult": ".codec",
    "make_prior": ".codec",
    "prior_from_header": ".codec",
    "read_header": ".codec",
    "CodecFileError": ".container",
    "FORMAT_VERSION": ".container",
    "MAGIC": ".container",
    "pack": ".container",
    "unpack": ".container",
    "SymbolCoder": ".entropy",
    "quantize_counts": ".entropy",
    "quantize_logits": ".entropy",
    "quantize_probs": ".entropy",
    "PRIORS": ".priors",
    "Prior": ".priors",
    "UniformPrior": ".priors",
    "UnigramPrior": ".unigram",
    "fit_unigram": ".unigram",
    "load_unigram": ".unigram",
    "save_unigram": ".unigram",
    "ContextPrior": ".context",
    "Factorisation": ".factor",
    "factorisation_for": ".factor",
    "VARPrior": ".var_prior",
    "TokenLayout": ".layout",
    "read_image": ".image",
    "write_image": ".image",
    "tokenizer_sha256": ".tokens",
    "load_tokenizer": ".tokens",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(globals(), _EXPORTS)
