"""Rate and utilization of a codebook: bits per codeword, entropy and perplexity of usage.

numpy only (the torch-side histogram for training loops is
:class:`lattiq.quantizers.usage.CodeUsage`). A *usage histogram* is a vector of
nonnegative counts ``n_k``, one per codeword; ``p_k = n_k / sum_j n_j``.

.. math::
    R = \\log_2 N, \\qquad H = -\\sum_k p_k \\log_2 p_k \\le R, \\qquad
    \\mathrm{PPL} = 2^{H} \\le N

References
----------
T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd ed., Wiley 2006,
ch. 2 (entropy) and ch. 5 (the rate of a fixed-length code).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

__all__ = [
    "UsageStats",
    "bits_per_codeword",
    "entropy",
    "max_min_ratio",
    "perplexity",
    "usage_histogram",
    "usage_stats",
    "used_codes",
]


def _check_size(n, name: str = "n_codes") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return int(n)


def _as_counts(counts) -> np.ndarray:
    c = np.asarray(counts)
    if c.dtype == object or not (
        np.issubdtype(c.dtype, np.integer) or np.issubdtype(c.dtype, np.floating)
    ):
        raise TypeError(f"counts must be a numeric array, got dtype {c.dtype}")
    if c.ndim != 1:
        raise ValueError(
            f"counts must be a 1-D histogram (one entry per codeword), got shape {c.shape}; "
            "build one from indices with usage_histogram(indices, n_codes)"
        )
    if c.size == 0:
        raise ValueError("counts is empty: a codebook has at least one codeword")
    c = c.astype(np.float64)
    if not np.all(np.isfinite(c)):
        raise ValueError("counts contain NaN or Inf")
    if np.any(c < 0):
        raise ValueError(f"counts must be >= 0, found {float(c.min())}")
    return c


def bits_per_codeword(n_codes) -> float:
    """Rate of a fixed-length index into ``n_codes`` codewords, in bits.

    .. math:: R = \\log_2 N

    ``bits_per_codeword(196560)`` is about 17.58 (the Leech codebook); ``2**d`` binary
    codewords give exactly ``d`` bits.
    """
    return math.log2(_check_size(n_codes))


def usage_histogram(indices, n_codes) -> np.ndarray:
    """Counts of each codeword index in ``indices`` (any shape), as an int64 ``(n_codes,)``.

    .. math:: n_k = \\#\\{ i : \\mathrm{idx}_i = k \\}

    Raises ``ValueError`` for an index outside ``[0, n_codes)`` and ``TypeError`` for a
    non-integer array. Tensors on the CPU are accepted through ``numpy.asarray``.
    """
    n_codes = _check_size(n_codes)
    idx = np.asarray(indices)
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"indices must be integers, got dtype {idx.dtype}")
    idx = idx.reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= n_codes):
        bad = idx[(idx < 0) | (idx >= n_codes)][0]
        raise ValueError(f"index {int(bad)} is outside [0, {n_codes}) for a {n_codes}-code book")
    return np.bincount(idx.astype(np.int64), minlength=n_codes).astype(np.int64)


def entropy(counts, base: float = 2.0) -> float:
    """Shannon entropy of the empirical usage distribution (bits by default).

    .. math:: H = -\\sum_{k : n_k > 0} p_k \\log p_k, \\qquad p_k = n_k / \\textstyle\\sum_j n_j

    Unused codes contribute nothing (:math:`0 \\log 0 = 0`). An all-zero histogram has no
    distribution and raises ``ValueError``.
    """
    c = _as_counts(counts)
    total = c.sum()
    if total <= 0:
        raise ValueError("counts are all zero: no usage to measure")
    if not (base > 0 and base != 1):
        raise ValueError(f"base must be positive and not 1, got {base}")
    p = c[c > 0] / total
    h = float(-(p * np.log(p)).sum() / math.log(base))
    return max(h, 0.0)


def perplexity(counts) -> float:
    """Perplexity of the usage distribution: the effective number of codewords.

    .. math:: \\mathrm{PPL} = 2^{H} = \\exp\\Big(-\\sum_k p_k \\ln p_k\\Big) \\in [1, N]
    """
    return float(math.exp(entropy(counts, base=math.e)))


def used_codes(counts) -> int:
    """Number of codewords used at least once: :math:`\\#\\{k : n_k > 0\\}`."""
    return int(np.count_nonzero(_as_counts(counts)))


def max_min_ratio(counts, used_only: bool = True) -> float:
    """Ratio of the most-used to the least-used codeword count.

    .. math:: \\rho = \\max_k n_k \\big/ \\min_k n_k

    With ``used_only`` (default) the minimum runs over the used codewords, so the ratio is
    finite whenever anything was used; otherwise an unused codeword makes it ``inf``.
    1.0 means perfectly uniform use.
    """
    c = _as_counts(counts)
    if c.sum() <= 0:
        raise ValueError("counts are all zero: no usage to measure")
    lo = c[c > 0].min() if used_only else c.min()
    return float("inf") if lo == 0 else float(c.max() / lo)


@dataclass(frozen=True)
class UsageStats:
    """Summary of a usage histogram (see :func:`usage_stats`)."""

    n_codes: int
    total: int
    used: int
    utilization: float
    bits_per_codeword: float
    entropy_bits: float
    normalized_entropy: float
    perplexity: float
    max_min_ratio: float

    def to_dict(self) -> dict:
        """Plain ``dict`` (JSON-friendly)."""
        return asdict(self)


def usage_stats(counts=None, *, indices=None, n_codes=None) -> UsageStats:
    """All usage statistics at once, from a histogram or from raw indices.

    .. math::
        \\text{utilization} = \\frac{\\#\\{k : n_k > 0\\}}{N}, \\qquad
        \\text{normalized entropy} = \\frac{H}{\\log_2 N}

    Parameters
    ----------
    counts : (N,) array_like, optional
        Usage histogram.
    indices : array_like of int, optional
        Codeword indices (any shape); needs ``n_codes``.
    n_codes : int, optional
        Codebook size; required with ``indices``, checked against ``len(counts)`` otherwise.

    Examples
    --------
    >>> s = usage_stats(indices=[0, 1, 2, 3], n_codes=4)
    >>> s.entropy_bits, s.perplexity, s.used
    (2.0, 4.0, 4)
    """
    if (counts is None) == (indices is None):
        raise ValueError("pass exactly one of counts or indices")
    if indices is not None:
        if n_codes is None:
            raise ValueError("n_codes is required with indices")
        c = usage_histogram(indices, n_codes)
    else:
        c = _as_counts(counts)
        if n_codes is not None and _check_size(n_codes) != c.size:
            raise ValueError(f"counts has {c.size} entries but n_codes is {n_codes}")
    n = int(c.size)
    total = float(np.sum(c))
    if total <= 0:
        raise ValueError("counts are all zero: no usage to measure")
    h = entropy(c)
    rate = bits_per_codeword(n)
    return UsageStats(
        n_codes=n,
        total=int(round(total)),
        used=used_codes(c),
        utilization=used_codes(c) / n,
        bits_per_codeword=rate,
        entropy_bits=h,
        normalized_entropy=h / rate if rate > 0 else 1.0,
        perplexity=perplexity(c),
        max_min_ratio=max_min_ratio(c),
    )
