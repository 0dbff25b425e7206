"""lattiq — dense lattices and spherical codes as exact, fast quantizers.

Subpackages: :mod:`lattiq.lattices` (exact lattices, invariants, decoders),
:mod:`lattiq.spherecodes` (spherical codes, search, analysis), :mod:`lattiq.quantizers`
(torch layers) and :mod:`lattiq.models` (tokenizer and generator). The first two never import
torch.
"""

__version__ = "0.1.0"
