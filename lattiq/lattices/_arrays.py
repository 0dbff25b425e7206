"""Array layouts handed to the numba kernels.

A numba dispatcher compiles one specialisation per array *type*: dtype, byte order, number
of dimensions, layout (C, F or any) and read-only flag all count. A read-only, strided,
big-endian or float32 copy of an input would each cost a fresh compilation (minutes for
the Leech kernels) and a second cached entry. Every public function therefore passes its
batch through :func:`kernel_array` before dispatch, so that one compiled signature serves
all inputs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["kernel_array"]


def kernel_array(a: np.ndarray, dtype=np.float64) -> np.ndarray:
    """``a`` as a C-contiguous, aligned, writeable, native-endian array of ``dtype``.

    Returns ``a`` itself when it already has that form, otherwise a copy (the caller's
    array is never modified). The value conversion is numpy's ``astype``; callers check
    beforehand that it is exact.
    """
    dt = np.dtype(dtype)
    if not dt.isnative:
        dt = dt.newbyteorder("=")
    return np.require(a, dtype=dt, requirements=("C", "A", "W"))
