"""Spherical codes: lattice shells, Leech and its kissing configurations, Fibonacci, binary
and random codes; exact nearest-codeword search, δ_min and packing analysis, bounds,
designs, export.

numpy / numba / scipy only — this subpackage never imports torch.

>>> from lattiq.spherecodes import get_code
>>> C = get_code("leech")
>>> C.dim, C.size, C.min_distance(), C.design_strength()
(24, 196560, 1.0, 11)
"""

from .bounds import (
    delsarte_lp_bound,
    delta_min_upper_bound,
    kabatiansky_levenshtein_bound,
    levenshtein_bound,
    rankin_bound,
)
from .code import ExactForm, SphericalCode
from .design import design_strength, design_strength_from_distribution
from .registry import CODE_FAMILIES, EXAMPLE_CODES, get_code, list_codes
from .usage import (
    UsageStats,
    bits_per_codeword,
    entropy,
    perplexity,
    usage_histogram,
    usage_stats,
)

__all__ = [
    "CODE_FAMILIES",
    "EXAMPLE_CODES",
    "ExactForm",
    "SphericalCode",
    "UsageStats",
    "bits_per_codeword",
    "delsarte_lp_bound",
    "delta_min_upper_bound",
    "design_strength",
    "design_strength_from_distribution",
    "entropy",
    "get_code",
    "kabatiansky_levenshtein_bound",
    "levenshtein_bound",
    "list_codes",
    "perplexity",
    "rankin_bound",
    "usage_histogram",
    "usage_stats",
]
