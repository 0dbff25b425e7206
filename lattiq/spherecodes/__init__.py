"""Spherical codes: lattice shells, Leech and its kissing configurations, Fibonacci, binary
and random codes; exact nearest-codeword search, δ_min and packing analysis, bounds,
designs, export.

numpy / numba / scipy only — this subpackage never imports torch. Names are imported lazily
(PEP 562), so that ``import lattiq.spherecodes`` is cheap and the ``lattiq`` command starts
fast.

>>> from lattiq.spherecodes import get_code
>>> C = get_code("leech")
>>> C.dim, C.size, C.min_distance(), C.design_strength()
(24, 196560, 1.0, 11)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lattiq import _jitnotice, _lazy

if TYPE_CHECKING:  # for type checkers and the API docs; at run time see __getattr__
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
    from .structure import (
        NO_STRUCTURE,
        CodeStructure,
        FibonacciStructure,
        LeechShellStructure,
        LeechSubsetStructure,
        RootStructure,
        SignStructure,
    )
    from .usage import (
        UsageStats,
        bits_per_codeword,
        entropy,
        perplexity,
        usage_histogram,
        usage_stats,
    )

#: public name -> submodule that defines it
_EXPORTS = {
    "CODE_FAMILIES": ".registry",
    "CodeStructure": ".structure",
    "EXAMPLE_CODES": ".registry",
    "ExactForm": ".code",
    "FibonacciStructure": ".structure",
    "LeechShellStructure": ".structure",
    "LeechSubsetStructure": ".structure",
    "NO_STRUCTURE": ".structure",
    "RootStructure": ".structure",
    "SignStructure": ".structure",
    "SphericalCode": ".code",
    "UsageStats": ".usage",
    "bits_per_codeword": ".usage",
    "delsarte_lp_bound": ".bounds",
    "delta_min_upper_bound": ".bounds",
    "design_strength": ".design",
    "design_strength_from_distribution": ".design",
    "entropy": ".usage",
    "get_code": ".registry",
    "kabatiansky_levenshtein_bound": ".bounds",
    "levenshtein_bound": ".bounds",
    "list_codes": ".registry",
    "perplexity": ".usage",
    "rankin_bound": ".bounds",
    "usage_histogram": ".usage",
    "usage_stats": ".usage",
}

__all__ = [
    "CODE_FAMILIES",
    "CodeStructure",
    "EXAMPLE_CODES",
    "ExactForm",
    "FibonacciStructure",
    "LeechShellStructure",
    "LeechSubsetStructure",
    "NO_STRUCTURE",
    "RootStructure",
    "SignStructure",
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

__getattr__, __dir__ = _lazy.lazy_exports(globals(), _EXPORTS, submodules=True,
                                        on_first_use=_jitnotice.watch_compiles)
