"""Entropy coding of token streams: fixed-point probability tables and a range coder.

Shape legend: ``m`` symbols coded in one call, ``n`` alphabet size.

Every probability model of :mod:`lattiq.codec` hands this module *integer* tables: ``n``
frequencies, each at least 1, summing to exactly ``2**PRECISION``. Encoder and decoder build
these tables from the same inputs with the same integer (or float64, elementwise) arithmetic,
so they are bit-identical on both sides; the tables then go to the range coder of
`constriction <https://bamler-lab.github.io/constriction/>`_ (Bamler 2022), which does the
arithmetic. No arithmetic coder is written here.

:class:`SymbolCoder` is one object for both directions: a probability model calls
``coder.code(tables, symbols)`` while encoding and ``coder.code(tables, None)`` while
decoding, and gets the symbols back either way. A model therefore walks the token stream
once, in one piece of code, and the two sides cannot drift apart.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "PRECISION",
    "TOTAL",
    "SymbolCoder",
    "quantize_count_row",
    "quantize_counts",
    "quantize_logits",
    "quantize_probs",
    "table_bits",
]

#: Fixed-point precision of every probability table: frequencies sum to ``2**PRECISION``
#: (constriction's categorical models use 24-bit fixed point).
PRECISION = 24
TOTAL = 1 << PRECISION
#: Largest alphabet a table may have (every symbol needs at least one unit of ``TOTAL``).
MAX_ALPHABET = TOTAL // 4


def _check_alphabet(n: int) -> None:
    if n < 1 or n > MAX_ALPHABET:
        raise ValueError(f"alphabet size must be in [1, {MAX_ALPHABET}], got {n}")


def _finish(q: np.ndarray) -> np.ndarray:
    """Give the rounding remainder of each row to its (first) largest entry."""
    rest = TOTAL - q.sum(axis=-1)
    top = np.argmax(q, axis=-1)
    np.put_along_axis(q, top[..., None], np.take_along_axis(q, top[..., None], -1)
                      + rest[..., None], axis=-1)  # fmt: skip
    return q


def quantize_probs(p: np.ndarray) -> np.ndarray:
    r"""Probabilities (..., n) -> int64 frequencies (..., n), each >= 1, rows summing to
    ``TOTAL``.

    .. math:: q_i = \lfloor p_i\,(T - n) \rfloor + 1, \quad q_{\arg\max} \mathrel{+}= T - \sum_j q_j

    with :math:`T = 2^{24}`. ``p`` is normalized per row first (float64); every symbol keeps
    a nonzero frequency, so any index is codable whatever the model says.
    """
    p = np.asarray(p, dtype=np.float64)
    if p.ndim < 1:
        raise ValueError("probabilities need at least one dimension (the alphabet)")
    n = p.shape[-1]
    _check_alphabet(n)
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probabilities must be finite and nonnegative")
    s = p.sum(axis=-1, keepdims=True)
    if (s <= 0).any():
        raise ValueError("every probability row needs a positive sum")
    q = np.floor((p / s) * float(TOTAL - n)).astype(np.int64) + 1
    return _finish(q)


def quantize_logits(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities up to a constant per row (..., n) -> :func:`quantize_probs` of their
    softmax, computed in float64."""
    lg = np.asarray(logits, dtype=np.float64)
    if not np.isfinite(lg).all():
        raise ValueError("logits must be finite")
    e = np.exp(lg - lg.max(axis=-1, keepdims=True))
    return quantize_probs(e)


def quantize_counts(counts: np.ndarray) -> np.ndarray:
    r"""Nonnegative integer counts (..., n) -> frequencies, in integer arithmetic only.

    .. math:: q_i = \lfloor c_i (T - n) / \textstyle\sum_j c_j \rfloor + 1

    (rows of zeros give the uniform table). Exact on any machine: no float is involved.
    """
    c = np.asarray(counts)
    if c.dtype.kind not in "iu":
        raise TypeError(f"counts must be integers, got {c.dtype}")
    c = c.astype(np.int64)
    n = c.shape[-1]
    _check_alphabet(n)
    if (c < 0).any():
        raise ValueError("counts must be nonnegative")
    s = c.sum(axis=-1, keepdims=True)
    if (s >= (1 << 38)).any():
        raise ValueError("counts too large (sum must stay below 2**38)")
    s1 = np.maximum(s, 1)
    q = (c * (TOTAL - n)) // s1 + 1
    return _finish(q)


def quantize_count_row(c: np.ndarray, total: int) -> np.ndarray:
    """:func:`quantize_counts` of one row of positive int64 counts whose sum ``total`` is
    known (the adaptive models' fast path, same integers)."""
    n = c.shape[0]
    q = c * (TOTAL - n) // total + 1
    q[int(np.argmax(q))] += TOTAL - int(q.sum())
    return q


def table_bits(tables: np.ndarray, symbols: np.ndarray) -> float:
    """Cross-entropy in bits of ``symbols`` under frequency tables: Σ -log2(q[s] / T)."""
    q = np.take_along_axis(np.asarray(tables), np.asarray(symbols)[..., None], -1)[..., 0]
    return float(PRECISION * q.size - np.log2(q.astype(np.float64)).sum())


class SymbolCoder:
    """A range coder (constriction's ``RangeEncoder`` / ``RangeDecoder``) over integer tables.

    ``SymbolCoder()`` encodes; ``SymbolCoder(words)`` decodes the ``uint32`` words an encoder
    produced. Both expose :meth:`code`, :meth:`code_iid` and :meth:`code_uniform`, which take
    the symbols while encoding and ``None`` while decoding, and return the symbols.

    Parameters
    ----------
    words : array of uint32, optional
        Compressed data to decode; omit to encode.
    trace : list, optional
        If given, every table used is appended to it (a copy), in coding order; tests compare
        the encoder's and the decoder's traces.

    Attributes
    ----------
    bits : float
        The model's cross-entropy of everything coded so far, :math:`\\sum -\\log_2 q(s)/T`
        (the ideal code length the range coder approaches).
    symbols : int
        Number of symbols coded so far.
    """

    def __init__(self, words: np.ndarray | None = None, trace: list | None = None):
        import constriction

        model, queue = constriction.stream.model, constriction.stream.queue

        self._model = model
        self.encoding = words is None
        if self.encoding:
            self._coder = queue.RangeEncoder()
        else:
            w = np.asarray(words)
            if w.dtype != np.uint32 or w.ndim != 1:
                raise TypeError("compressed words must be a 1-d uint32 array")
            self._coder = queue.RangeDecoder(w)
        self._family = model.Categorical(perfect=False)
        self.trace = trace
        self.bits = 0.0
        self.symbols = 0

    # -- helpers ------------------------------------------------------------------------------

    def _symbols_in(self, symbols, m: int, n: int) -> np.ndarray | None:
        if self.encoding:
            if symbols is None:
                raise ValueError("the encoder needs the symbols to code")
            s = np.asarray(symbols).reshape(-1)
            if s.shape[0] != m:
                raise ValueError(f"expected {m} symbols, got {s.shape[0]}")
            if s.size and (s.min() < 0 or s.max() >= n):
                raise ValueError(f"symbols must be in [0, {n}), got range [{s.min()}, {s.max()}]")
            return s.astype(np.int32)
        if symbols is not None:
            raise ValueError("the decoder is given no symbols")
        return None

    def _account(self, tables: np.ndarray, s: np.ndarray) -> None:
        if self.trace is not None:
            self.trace.append(np.array(tables, copy=True))
        if tables.shape[0] == 1 and s.ndim == 2:  # one table for a row of symbols
            q = tables[0][s[0].astype(np.int64)]
            self.bits += float(PRECISION * q.size - np.log2(q.astype(np.float64)).sum())
        else:
            self.bits += table_bits(tables, s.astype(np.int64))
        self.symbols += int(s.size)

    # -- coding -------------------------------------------------------------------------------

    def code(self, tables: np.ndarray, symbols=None) -> np.ndarray:
        """Code ``m`` symbols, symbol ``i`` with table row ``i``: tables (m, n) int64."""
        t = np.asarray(tables)
        if t.ndim != 2 or t.dtype != np.int64:
            raise TypeError("tables must be an (m, n) int64 array of frequencies")
        m, n = t.shape
        s = self._symbols_in(symbols, m, n)
        if m == 0:
            return np.zeros(0, np.int64)
        probs = t.astype(np.float64)
        if self.encoding:
            self._coder.encode(s, self._family, probs)
        else:
            s = np.asarray(self._coder.decode(self._family, probs), dtype=np.int32)
        self._account(t, s)
        return s.astype(np.int64)

    def code_one(self, table: np.ndarray, symbol: int | None = None) -> int:
        """Code one symbol with one table (n,) int64 (the adaptive models' fast path; the
        table is trusted: at least 1 everywhere, summing to ``TOTAL``)."""
        mdl = self._model.Categorical(table.astype(np.float64), perfect=False)
        if self.encoding:
            if symbol is None or not 0 <= symbol < table.shape[0]:
                raise ValueError(f"symbol must be in [0, {table.shape[0]}), got {symbol!r}")
            s = int(symbol)
            self._coder.encode(s, mdl)
        else:
            s = int(self._coder.decode(mdl))
        if self.trace is not None:
            self.trace.append(np.array(table, copy=True))
        self.bits += PRECISION - math.log2(int(table[s]))
        self.symbols += 1
        return s

    def code_iid(self, table: np.ndarray, symbols=None, count: int | None = None) -> np.ndarray:
        """Code ``count`` symbols all with one table (n,) int64 (i.i.d. under the model)."""
        t = np.asarray(table)
        if t.ndim != 1 or t.dtype != np.int64:
            raise TypeError("table must be an (n,) int64 array of frequencies")
        n = t.shape[0]
        m = int(np.asarray(symbols).size) if self.encoding else int(count)
        s = self._symbols_in(symbols, m, n)
        if m == 0:
            return np.zeros(0, np.int64)
        mdl = self._model.Categorical(t.astype(np.float64), perfect=False)
        if self.encoding:
            self._coder.encode(s, mdl)
        else:
            s = np.asarray(self._coder.decode(mdl, m), dtype=np.int32)
        self._account(t[None], s[None])
        return s.astype(np.int64)

    def code_uniform(self, n: int, symbols=None, count: int | None = None) -> np.ndarray:
        """Code ``count`` symbols uniform over ``[0, n)`` (constriction's ``Uniform``)."""
        _check_alphabet(int(n))
        m = int(np.asarray(symbols).size) if self.encoding else int(count)
        s = self._symbols_in(symbols, m, n)
        if m == 0:
            return np.zeros(0, np.int64)
        mdl = self._model.Uniform(int(n))
        if self.encoding:
            self._coder.encode(s, mdl)
        else:
            s = np.asarray(self._coder.decode(mdl, m), dtype=np.int32)
        if self.trace is not None:
            self.trace.append(np.array([n], dtype=np.int64))
        self.bits += m * float(np.log2(n))
        self.symbols += m
        return s.astype(np.int64)

    def finish(self) -> np.ndarray:
        """The compressed words (uint32) of an encoder."""
        if not self.encoding:
            raise ValueError("finish() is for the encoder")
        return np.asarray(self._coder.get_compressed(), dtype=np.uint32)
