"""Theta series: exact short-vector enumeration (Fincke–Pohst) and closed forms.

The theta series of a lattice Λ counts its vectors by norm,

.. math:: \\Theta_\\Lambda(q) = \\sum_{x \\in \\Lambda} q^{x \\cdot x} = \\sum_{m} N(m)\\, q^m ,

and this module returns the list ``[N(0), N(1), …]``. Two independent computations are
provided and tested against each other:

* :func:`enumerate_norm_counts` — Fincke & Pohst (1985) enumeration in numba over any lattice
  given by an exact rational Gram matrix (after LLL reduction), every count decided by exact
  int64 arithmetic;
* closed forms (SPLAG ch. 4): ``Θ_Zn = θ3ⁿ``, ``Θ_Dn = (θ3ⁿ + θ4ⁿ)/2``, ``Θ_E8 = E4`` and
  ``Θ_Λ24 = E4³ − 720 Δ = E12 − (65520/691) Δ`` in ``q²``, with
  ``E4 = 1 + 240 Σ σ3(k) q^{2k}`` and ``Δ = q² Π (1 − q^{2k})²⁴``; they answer hundreds of
  thousands of terms in seconds, and :func:`check_theta_size` refuses, with its estimate,
  what would take longer.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ._enum_kernels import enumerate_norms

__all__ = [
    "fincke_pohst_form",
    "enumerate_norm_counts",
    "enumerate_shell",
    "theta_closed_form",
    "estimate_vector_count",
    "unit_ball_volume",
    "closed_form_work",
    "check_theta_size",
    "check_theta_work",
    "theta_zn",
    "theta_dn",
    "theta_an",
    "an_work",
    "theta_e8",
    "theta_leech",
    "zn_work",
    "e8_work",
    "leech_work",
    "MAX_THETA_TERMS",
    "MAX_THETA_WORK",
    "MAX_ENUMERATION_NODES",
]


def unit_ball_volume(n: int) -> float:
    """Volume of the unit ball in R^n, :math:`V_n = \\pi^{n/2} / \\Gamma(n/2 + 1)`."""
    return math.pi ** (n / 2) / math.gamma(n / 2 + 1)


def estimate_vector_count(dim: int, det: float, max_norm: float) -> float:
    """Gauss-heuristic estimate of ``#{x : x·x <= max_norm}``: ``V_n max_norm^{n/2} / √det``.

    For very symmetric lattices at small norm the true count can be a few times larger
    (Leech through norm 6: estimate 4.2e6, true 1.7e7).
    """
    return unit_ball_volume(dim) * max_norm ** (dim / 2) / math.sqrt(det)


def fincke_pohst_form(gram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fincke–Pohst decomposition ``Q(u) = Σ q_ii (u_i + Σ_{j>i} q_ij u_j)²`` of a PD Gram.

    Returns ``(qd, qm)``: the diagonal and the strictly upper coefficients. Raises
    ``ValueError`` when the matrix is not positive definite.
    """
    Q = np.array(gram, dtype=np.float64)
    n = Q.shape[0]
    for i in range(n):
        if not Q[i, i] > 0:
            raise ValueError("Gram matrix is not positive definite")
        for j in range(i + 1, n):
            Q[j, i] = Q[i, j]
            Q[i, j] = Q[i, j] / Q[i, i]
        for l in range(i + 1, n):
            for j in range(l, n):
                Q[l, j] -= Q[l, i] * Q[i, j]
    qd = np.ascontiguousarray(np.diag(Q).copy())
    qm = np.ascontiguousarray(np.triu(Q, 1))
    return qd, qm


def _reduced(gi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LLL-reduce an exact integer Gram; returns (reduced Gram, unimodular T with G' = T G Tᵀ)."""
    from .reduction import lll_reduce

    # rows of the Cholesky factor have Gram matrix gi; LLL's change of basis is exact
    _, T = lll_reduce(np.linalg.cholesky(gi.astype(np.float64)))
    g2 = T @ gi @ T.T
    return g2, T


def _run(gi: np.ndarray, max_norm: int, target: int, capacity: int):
    g2, T = _reduced(gi)
    qd, qm = fincke_pohst_form(g2)
    bound = float(max(max_norm, target)) * (1 + 1e-9) + 1e-9
    counts = np.zeros(max(max_norm, 0) + 1, dtype=np.int64)
    out = np.zeros((capacity, gi.shape[0]), dtype=np.int64)
    n_t = enumerate_norms(qd, qm, g2.astype(np.int64), bound, np.int64(max_norm),
                          np.int64(target), out, counts, np.int64(MAX_ENUMERATION_NODES))
    if n_t < 0:
        raise ValueError(
            f"enumeration stopped after {MAX_ENUMERATION_NODES:,} search-tree nodes in "
            f"dimension {gi.shape[0]} (far more vectors than the size estimate allowed); "
            "ask for fewer terms or a smaller norm")
    return counts, out, int(n_t), T


def enumerate_norm_counts(gram_int: np.ndarray, max_norm: int) -> np.ndarray:
    """Counts ``N(m)`` of vectors with exact integer form value ``m`` for ``m <= max_norm``.

    ``gram_int`` is an exact integer Gram matrix (int64). Fincke & Pohst, *Math. Comp.* 44
    (1985); the float pruning bound is padded so no vector is lost to rounding.
    """
    gi = np.asarray(gram_int, dtype=np.int64)
    counts, _, _, _ = _run(gi, int(max_norm), -1, 0)
    return counts


def enumerate_shell(gram_int: np.ndarray, norm: int, count: int) -> np.ndarray:
    """All coefficient vectors ``u`` (rows, int64) with ``uᵀ G u == norm``; ``count`` is their
    number (known from the theta series) and sizes the output."""
    gi = np.asarray(gram_int, dtype=np.int64)
    _, out, n_t, T = _run(gi, -1, int(norm), int(count))
    if n_t != count:  # pragma: no cover - would mean an enumeration bug
        raise RuntimeError(f"enumeration found {n_t} vectors of norm {norm}, expected {count}")
    return out @ T


# ----------------------------------------------------------------------------- closed forms
#
# The series are computed with numpy: a sparse factor (theta_3 has about sqrt(T) nonzero
# terms, eta^3 about sqrt(2T)) times a dense series is one vectorized shift-and-add per
# nonzero term. Counts too large for int64 are computed modulo several primes below 2^31
# and rebuilt by the Chinese remainder theorem; divisor sums come from a sieve.

#: Largest number of theta coefficients a closed form returns (one Python int each).
MAX_THETA_TERMS = 2_000_000
#: Largest estimated work of a closed form, in array-element operations (int64
#: shift-and-adds; a Python-int operation counts 30): about ten seconds on one core.
MAX_THETA_WORK = 1e10
#: Hard stop of one Fincke-Pohst walk, in search-tree nodes (about a minute of work): the
#: Gauss estimate that sizes requests can be far too low for small norms in high dimension
#: (``a62`` through norm 6), so the walk itself refuses to go on.
MAX_ENUMERATION_NODES = 5_000_000_000
#: Cost of one Python-int array operation relative to an int64 one.
_OBJ = 30.0
#: Fixed cost of one vectorized numpy call, in element operations.
_CALL = 2000.0


def _sparse_theta3(T: int) -> tuple[list[int], list[int]]:
    """Nonzero terms of θ3 = Σ_k q^{k²} below q^T: positions and coefficients."""
    pos, coef = [0], [1]
    k = 1
    while k * k < T:
        pos.append(k * k)
        coef.append(2)
        k += 1
    return pos, coef


def _sparse_eta3(h: int) -> tuple[list[int], list[int]]:
    """Nonzero terms of Π(1 − q^j)³ = Σ_k (−1)^k (2k+1) q^{k(k+1)/2} (Jacobi) below q^h."""
    pos, coef = [], []
    k = 0
    while k * (k + 1) // 2 < h:
        pos.append(k * (k + 1) // 2)
        coef.append((-1) ** k * (2 * k + 1))
        k += 1
    return pos, coef


def _sparse_power(pos, coef, power: int, h: int, p: int | None) -> np.ndarray:
    """``(Σ coef_i q^{pos_i})^power`` truncated below ``q^h``, in int64, modulo ``p`` when
    given (then every partial sum stays below 2^63: ``|coef| · p · #terms < 2^63``)."""
    P = np.zeros(h, dtype=np.int64)
    P[0] = 1
    for _ in range(power):
        Q = np.zeros(h, dtype=np.int64)
        for s_, c in zip(pos, coef, strict=True):
            if s_ >= h:
                break
            Q[s_:] += c * P[: h - s_]
        if p is not None:
            Q %= p
        P = Q
    return P


_PRIME_CACHE: list[int] = []


def _primes(k: int) -> list[int]:
    """The ``k`` largest primes below 2^31."""
    import sympy

    while len(_PRIME_CACHE) < k:
        _PRIME_CACHE.append(int(sympy.prevprime(_PRIME_CACHE[-1] if _PRIME_CACHE else 2**31)))
    return _PRIME_CACHE[:k]


def _n_primes(bits: float) -> int:
    """Primes (each above 2^30) whose product exceeds ``2^(bits + 1)``: room for a sign."""
    return int(bits + 1) // 30 + 1


def _crt(residues: list[np.ndarray], primes: list[int]) -> list[int]:
    """Integers (symmetric range) from their residues modulo ``primes`` (Garner)."""
    x = residues[0].astype(object)
    M = primes[0]
    for r, p in zip(residues[1:], primes[1:], strict=True):
        xm = (x % p).astype(np.int64)
        t = ((r - xm) % p) * pow(M, -1, p) % p
        x = x + M * t.astype(object)
        M *= p
    half = M // 2
    return [int(v) - M if v > half else int(v) for v in x]


def _power_plan(coef, power: int, h: int, bits: float) -> tuple[str, float]:
    """How :func:`_power_counts` computes a power, and its estimated work: ``"int64"``
    (nonnegative coefficients below 2^62: intermediate powers obey the same bound),
    ``"modular"`` (int64 modulo primes, then CRT) or ``"python"`` (Python ints; cheaper
    when the counts are huge but the series short)."""
    nnz = len(coef)
    calls = power * nnz  # one vectorized shift-and-add per nonzero term
    if bits <= 62 and min(coef) >= 0 and max(coef) * 2.0**bits * nnz < 2.0**63:
        return "int64", calls * (h + _CALL)
    k = _n_primes(bits)
    modular = k * calls * (h + _CALL) + _OBJ * k * k * h
    python = calls * (_OBJ * h * max(1.0, bits / 1000.0) + _CALL)
    return ("modular", modular) if modular <= python else ("python", python)


def _power_counts(pos, coef, power: int, h: int, bits: float) -> list[int]:
    """Exact coefficients of a sparse series' power below ``q^h`` whose absolute values
    are below ``2^bits`` (the strategy of :func:`_power_plan`)."""
    how, _ = _power_plan(coef, power, h, bits)
    if how == "int64":
        return [int(v) for v in _sparse_power(pos, coef, power, h, None)]
    if how == "python":
        P = np.zeros(h, dtype=object)
        P[0] = 1
        for _ in range(power):
            Q = np.zeros(h, dtype=object)
            for s_, c in zip(pos, coef, strict=True):
                if s_ >= h:
                    break
                Q[s_:] += c * P[: h - s_]
            P = Q
        return [int(v) for v in P]
    primes = _primes(_n_primes(bits))
    return _crt([_sparse_power(pos, coef, power, h, p) for p in primes], primes)


def _sigma(p: int, h: int, python_ints: bool) -> np.ndarray:
    """Divisor sums ``σ_p(k) = Σ_{d | k} d^p`` for ``0 <= k < h`` (``σ_p(0) = 0``).

    Each pair ``d·q < h`` is added once from its smaller factor ``t``: about ``2√h``
    vectorized steps, ``O(h log h)`` work. int64 (``σ_p(k) < 2^63`` is the caller's
    check) or Python ints.
    """
    dt = object if python_ints else np.int64
    pw = np.arange(h, dtype=np.int64).astype(dt) ** p
    out = np.zeros(h, dtype=dt)
    t = 1
    while t * t < h:
        out[t * t :: t] += pw[t]  # d = t, q >= t
        hi = (h - 1) // t
        if hi > t:
            out[t * (t + 1) :: t] += pw[t + 1 : hi + 1]  # q = t, d > t
        t += 1
    return out


def _zn_bits(n: int, T: int) -> float:
    """log2 of a bound on the counts of Z^k (k <= n) below norm T: (2√T + 1)^n."""
    return n * math.log2(2.0 * math.sqrt(max(T - 1, 0)) + 1.0)


def _leech_bits(h: int) -> float:
    """log2 of a bound on |τ(m)| for m < h: Deligne's d(m) m^{11/2} <= 2 m^6."""
    return 1.0 + 6.0 * math.log2(max(h, 2))


# ------------------------------------------------------------- closed forms per family
#
# Each closed form has a work estimate beside it; a family's strategy
# (:mod:`lattiq.lattices.families`) names the pair it uses.


def zn_work(n: int, n_terms: int) -> float:
    """Estimated work of :func:`theta_zn` (and :func:`theta_dn`), in array-element
    operations."""
    T = max(int(n_terms), 1)
    _, coef = _sparse_theta3(T)
    return _power_plan(coef, n, T, _zn_bits(n, T))[1] + _OBJ * T


def theta_zn(n: int, n_terms: int) -> list[int]:
    """:math:`\\Theta_{\\mathbb Z^n} = \\theta_3^n` through ``n_terms`` terms (SPLAG ch. 4 §4.1)."""
    T = int(n_terms)
    pos, coef = _sparse_theta3(T)
    return _power_counts(pos, coef, n, T, _zn_bits(n, T))


def theta_dn(n: int, n_terms: int) -> list[int]:
    """:math:`\\Theta_{D_n} = \\tfrac12(\\theta_3^n + \\theta_4^n)`: the vectors of
    :math:`\\mathbb Z^n` of even coordinate sum, which are those of even norm (SPLAG ch. 4
    §7.1)."""
    return [c if m % 2 == 0 else 0 for m, c in enumerate(theta_zn(n, n_terms))]


def _an_plan(n: int, n_terms: int) -> tuple[float, bool]:
    """Work of :func:`theta_an` in element operations, and whether int64 cannot overflow
    (the count of all of Z^{n+1} through that norm bounds every entry)."""
    M = max(int(n_terms), 1) - 1
    r = math.isqrt(M)
    small = (n + 1) * math.log2(2 * r + 1) < 62
    elems = (n + 1) * (2 * r + 1) * ((M + 1) * (2 * M + 1) + _CALL)
    return elems * (1.0 if small else _OBJ), small


def an_work(n: int, n_terms: int) -> float:
    """Estimated work of :func:`theta_an`."""
    return _an_plan(n, n_terms)[0]


def theta_an(n: int, n_terms: int) -> list[int]:
    r""":math:`\Theta_{A_n}` through ``n_terms`` terms, exactly: the vectors of
    :math:`\mathbb Z^{n+1}` of coordinate sum 0 counted by norm, by a dynamic programme over
    the coordinates on the two-variable series :math:`\prod_i \sum_x q^{x^2} t^x` (the
    coefficient of :math:`t^0`). Work :math:`O(n\,T^{2.5})` for ``T`` terms; no enumeration,
    so high dimensions at small norm cost nothing (``a62`` through norm 6)."""
    M = int(n_terms) - 1
    r = math.isqrt(M)
    small = _an_plan(n, n_terms)[1]
    dtype = np.int64 if small else object
    # P[m, s + M]: ways to reach norm m and coordinate sum s with the coordinates so far
    P = np.zeros((M + 1, 2 * M + 1), dtype=dtype)
    P[0, M] = 1
    for _ in range(n + 1):
        Q = np.zeros_like(P)
        for x in range(-r, r + 1):
            q = x * x
            if x >= 0:
                Q[q:, x:] += P[: M + 1 - q, : 2 * M + 1 - x]
            else:
                Q[q:, : 2 * M + 1 + x] += P[: M + 1 - q, -x:]
        P = Q
    return [int(c) for c in P[:, M]]


def e8_work(n_terms: int) -> float:
    """Estimated work of :func:`theta_e8`."""
    h = max(int(n_terms), 1) // 2 + 2
    return 3.0 * h * math.log(h + 1) + _CALL * math.sqrt(h) + _OBJ * h


def _spread_even(coeffs: list[int], T: int) -> list[int]:
    """Coefficients of ``q^0, q^2, q^4, …`` placed at even positions of a length-``T`` list."""
    out = [0] * T
    for k, c in enumerate(coeffs[: (T + 1) // 2]):
        out[2 * k] = c
    return out


def theta_e8(n_terms: int) -> list[int]:
    """:math:`\\Theta_{E_8} = E_4 = 1 + 240 \\sum_m \\sigma_3(m) q^{2m}` (SPLAG ch. 4 §8.1)."""
    T = int(n_terms)
    h = (T + 1) // 2  # coefficients of q^0, q^2, ..., below q^T
    sig = _sigma(3, max(h, 1), python_ints=False)  # σ3(m) < 1.21 m³ < 2^63 here
    return _spread_even([1] + [240 * int(v) for v in sig[1:h]], T)


def leech_work(n_terms: int) -> float:
    """Estimated work of :func:`theta_leech`."""
    h = max(int(n_terms), 1) // 2 + 2
    _, coef = _sparse_eta3(h)
    return (_power_plan(coef, 8, h, _leech_bits(h))[1]
            + _OBJ * 3.0 * h * math.log(h + 1) + _CALL * math.sqrt(h))


def theta_leech(n_terms: int) -> list[int]:
    """:math:`\\Theta_{\\Lambda_{24}} = E_{12} - \\tfrac{65520}{691} \\Delta
    = 1 + \\tfrac{65520}{691} \\sum_m (\\sigma_{11}(m) - \\tau(m))\\, q^{2m}` (SPLAG ch. 4
    §11), with :math:`\\Delta = q^2 (\\prod (1 - q^{2k})^3)^8` (Jacobi's identity)."""
    T = int(n_terms)
    h = (T + 1) // 2
    sig = _sigma(11, max(h, 1), python_ints=True)
    pos, coef = _sparse_eta3(max(h - 1, 1))
    prod = _power_counts(pos, coef, 8, max(h - 1, 1), _leech_bits(h))
    coeffs = [1]
    for m in range(1, h):  # tau(m) = coefficient of q^(m-1) in the product
        num = 65520 * (int(sig[m]) - prod[m - 1])
        if num % 691:  # pragma: no cover - would mean an arithmetic bug
            raise RuntimeError(f"Leech theta: 691 does not divide the term {m}")
        coeffs.append(num // 691)
    return _spread_even(coeffs, T)


# ------------------------------------------------------------------ size limits, by name


def check_theta_work(work: float | None, n_terms: int, name: str) -> None:
    """Refuse (``ValueError``, with the estimate) a closed-form request above
    :data:`MAX_THETA_TERMS` terms or :data:`MAX_THETA_WORK` operations (``work`` is the
    family's estimate; ``None``: no closed form, only the term limit applies)."""
    if n_terms > MAX_THETA_TERMS:
        raise ValueError(
            f"{name!r}: {n_terms:,} theta terms would hold {n_terms:,} integers in memory, "
            f"more than the limit of {MAX_THETA_TERMS:,}; ask for fewer terms"
        )
    if work is not None and work > MAX_THETA_WORK:
        raise ValueError(
            f"{name!r}: the closed-form theta series through {n_terms:,} terms would take "
            f"about {work:.3g} array operations (limit {MAX_THETA_WORK:.3g}, about ten "
            "seconds); ask for fewer terms"
        )


def _family(family: str, n: int):
    """The strategy of the registered family called ``family`` (``None`` if unknown)."""
    from .registry import family_strategy

    return family_strategy(family, n)


def closed_form_work(family: str, n: int, n_terms: int) -> float | None:
    """Estimated work of :func:`theta_closed_form` in array-element operations (``None``
    when the family has no closed form). ``family`` is a registered family name
    (``Lattice.family``); the estimate is the family strategy's."""
    strategy = _family(family, n)
    return None if strategy is None else strategy.theta_closed_form_work(n_terms)


def check_theta_size(family: str, n: int, n_terms: int, name: str) -> None:
    """:func:`check_theta_work` with the estimate of the family called ``family``."""
    check_theta_work(closed_form_work(family, n, n_terms), n_terms, name)


def theta_closed_form(family: str, n: int, n_terms: int) -> list[int] | None:
    """Closed-form theta coefficients ``[N(0), …, N(n_terms − 1)]`` or ``None`` if unknown.

    ``family`` is a registered family name (``Lattice.family``: ``"z"``, ``"d"``, ``"e8"``,
    ``"leech"`` have closed forms; SPLAG ch. 4 §§4.1, 7.1, 8.1, 11):

    .. math::
        \\Theta_{\\mathbb Z^n} = \\theta_3^n, \\quad
        \\Theta_{D_n} = \\tfrac12(\\theta_3^n + \\theta_4^n) = \\text{even part of } \\theta_3^n,
        \\quad \\Theta_{E_8} = E_4 = 1 + 240 \\sum_m \\sigma_3(m) q^{2m}, \\quad
        \\Theta_{\\Lambda_{24}} = E_{12} - \\tfrac{65520}{691} \\Delta
        = 1 + \\tfrac{65520}{691} \\sum_m (\\sigma_{11}(m) - \\tau(m))\\, q^{2m}

    with :math:`\\Delta = \\sum \\tau(m) q^{2m} = q^2 \\prod (1 - q^{2k})^{24}` computed as
    :math:`q^2 (\\prod (1 - q^{2k})^3)^8` (Jacobi's identity). Sizes are not checked here:
    see :func:`check_theta_size`.
    """
    strategy = _family(family, n)
    if strategy is None or strategy.theta_closed_form_work(n_terms) is None:
        return None
    return strategy.theta_closed_form(int(n_terms))


def rational_gram_to_int(gram) -> tuple[np.ndarray, int]:
    """Exact rational Gram (sympy / Fraction entries) → (integer Gram ``D·G``, ``D``)."""
    fr = [[Fraction(str(v)) if not isinstance(v, Fraction) else v for v in row] for row in gram]
    den = 1
    for row in fr:
        for v in row:
            den = den * v.denominator // math.gcd(den, v.denominator)
    gi = [[int(v * den) for v in row] for row in fr]
    mx = max(abs(v) for row in gi for v in row)
    if mx > 2**40:
        raise ValueError(
            "the exact Gram matrix has entries too large for int64 enumeration "
            f"(max |D·G_ij| = {mx}); give the basis with small integers or fractions"
        )
    return np.array(gi, dtype=np.int64), den
