"""Deprecated: moved to :mod:`lattiq.training.train_var`.

Kept for one release so that ``python -m lattiq.models.train_var`` (and ``torchrun -m``) and
imports from here still work; they warn. Use ``lattiq.training.train_var``.
"""

import sys
import warnings

from lattiq.training.train_var import *  # noqa: F403
from lattiq.training.train_var import __all__, main  # noqa: F401

warnings.warn("lattiq.models.train_var moved to lattiq.training.train_var; the old path goes in "
              "the next release", DeprecationWarning,
              stacklevel=1 if __name__ == "__main__" else 2)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
