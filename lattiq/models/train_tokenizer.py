"""Deprecated: moved to :mod:`lattiq.training.train_tokenizer`.

Kept for one release so that ``python -m lattiq.models.train_tokenizer`` (and ``torchrun -m``) and
imports from here still work; they warn. Use ``lattiq.training.train_tokenizer``.
"""

import sys
import warnings

from lattiq.training.train_tokenizer import *  # noqa: F403
from lattiq.training.train_tokenizer import __all__, main  # noqa: F401

warnings.warn("lattiq.models.train_tokenizer moved to lattiq.training.train_tokenizer; the old "
              "path goes in the next release", DeprecationWarning,
              stacklevel=1 if __name__ == "__main__" else 2)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
