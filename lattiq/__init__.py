"""lattiq — dense lattices and spherical codes as exact, fast quantizers.

Subpackages: :mod:`lattiq.lattices` (exact lattices, invariants, decoders),
:mod:`lattiq.spherecodes` (spherical codes, search, analysis), :mod:`lattiq.quantizers`
(torch layers), :mod:`lattiq.models` (tokenizer and generator networks),
:mod:`lattiq.training` and :mod:`lattiq.evaluation` (the scripts and their pieces),
:mod:`lattiq.runtime` (configs, checkpoints, run directories, process set-up),
:mod:`lattiq.data`, :mod:`lattiq.codec`, and the command line (:mod:`lattiq.cli`,
:mod:`lattiq.commands`). The first two never import torch; ``docs/architecture.md`` maps
the layers.
"""

__version__ = "0.1.0"
