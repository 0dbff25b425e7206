"""Models: the networks and what they are trained with — the visual tokenizer (ViT
autoencoder), the VAR generator and its heads, the tokenizer-generator contract, sampling,
and the losses.

Training lives in :mod:`lattiq.training`, evaluation in :mod:`lattiq.evaluation`, the
files and process set-up of a run in :mod:`lattiq.runtime` (``docs/architecture.md``).

Names are imported lazily (PEP 562), so that ``import lattiq.models`` costs nothing until a
name is used (the ``lattiq`` command is built without importing torch).
"""

from __future__ import annotations

from lattiq import _lazy

#: public name -> module that defines it
_EXPORTS = {
    "TOKENIZER_PRESETS": "lattiq.models.tokenizer",
    "QuantizerConfig": "lattiq.models.tokenizer",
    "Tokenizer": "lattiq.models.tokenizer",
    "TokenizerConfig": "lattiq.models.tokenizer",
    "TokenizerOutput": "lattiq.models.tokenizer",
    "build_quantizer": "lattiq.models.tokenizer",
    "tokenizer_preset": "lattiq.models.tokenizer",
    "VAR": "lattiq.models.var",
    "VARConfig": "lattiq.models.var",
    "VAR_PRESETS": "lattiq.models.var",
    "var_preset": "lattiq.models.var",
    "make_head": "lattiq.models.heads",
    "chunked_cross_entropy": "lattiq.models.chunked_ce",
    "SampleSettings": "lattiq.models.sample",
    "generate_images": "lattiq.models.sample",
    "load_generator": "lattiq.models.sample",
}

#: names that moved out of this package; still served, with a DeprecationWarning, for one
#: release
_MOVED = {
    "OptimConfig": "lattiq.training.optim",
    "build_optimizer": "lattiq.training.optim",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(globals(), _EXPORTS, moved=_MOVED)
