"""E6, E7, the Coxeter–Todd lattice K12 and the Barnes–Wall lattice Λ16, each glued from
scaled A_n or D_n blocks.

Coordinates (integer frame, :mod:`lattiq.lattices.glued`):

* **E7** = {x ∈ E8 : Σx = 0}, the vectors of E8 orthogonal to the minimal vector
  ``(½)⁸`` (SPLAG ch. 4 §8.2). In the frame 2·E8 (scale ½): A7 = {x ∈ Z⁸ : Σx = 0} doubled,
  glued with ``g = (1⁴, −1⁴)``: E7 = A7 ∪ (A7 + ½g).
* **E6** = {x ∈ E8 : Σx = 0, x₁ + x₈ = 0}, the vectors of E8 orthogonal to an A2 (spanned
  by ``(½)⁸`` and ``e₁ + e₈``; SPLAG ch. 4 §8.3). In the frame 2·E8: A1 on coordinates
  (1, 8) and A5 on coordinates 2–7, doubled, glued with the same ``g``.
* **K12**, the Coxeter–Todd lattice (SPLAG ch. 4 §9), as a lattice over the Eisenstein
  integers Z[ω]: the vectors of Z[ω]⁶ congruent modulo 2 to a word of the hexacode, the
  [6, 3, 4] code over F4 = Z[ω]/2 (SPLAG ch. 11 §2; Construction A over Z[ω], ch. 7).
  Each coordinate ``a + bω`` is written in A2 = {z ∈ Z³ : Σz = 0} as
  ``a(1, −1, 0) + b(0, 1, −1)``, so the real norm is twice the Hermitian one: the integer
  frame is 64 translates of 2·A2⁶ in Z¹⁸ and the scale is 1/√2 (min norm 4, det 729).
* **Λ16**, the Barnes–Wall lattice (SPLAG ch. 4 §10): the vectors ``(c + 2x)/√2`` with
  ``c`` in the first-order Reed–Muller code RM(1, 4) of length 16 and ``x ∈ Z¹⁶`` of even
  coordinate sum; integer frame {y ∈ Z¹⁶ : y mod 2 ∈ RM(1, 4), Σy ≡ 0 (mod 4)}, scale
  1/√2 (min norm 4, det 256): 32 translates of 2·D16, glued like the others.

Recorded invariants are SPLAG's (ch. 1 Table 1.2 and ch. 4 §§8–9); the tests check each
against enumeration and the theta series against OEIS A004007, A004008, A004010, A008409.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import sympy

from .glued import GluedFamily

__all__ = ["BW16Family", "E6Family", "E7Family", "K12Family", "hexacode", "reed_muller_1_4"]

#: E8's glue between the two cosets of D8, as seen by E7 and E6 in the frame 2·E8.
_G8 = (1, 1, 1, 1, -1, -1, -1, -1)

# F4 = {0, 1, ω, ω̄} as 0, 1, 2, 3: addition is XOR (ω̄ = ω + 1), multiplication by logs
_F4_EXP = (1, 2, 3)
_F4_LOG = {1: 0, 2: 1, 3: 2}
#: The F4 residues 0, 1, ω, ω̄ of Z[ω] / 2 lifted to A2 ⊂ Z³ (1 → e1 − e2, ω → e2 − e3).
_A2_LIFT = np.array([[0, 0, 0], [1, -1, 0], [0, 1, -1], [-1, 0, 1]], dtype=np.int64)


def _f4_mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _F4_EXP[(_F4_LOG[a] + _F4_LOG[b]) % 3]


@lru_cache(maxsize=1)
def hexacode() -> np.ndarray:
    """The 64 words of the hexacode, ``(64, 6)`` uint8 over F4 = {0, 1, ω, ω̄} coded
    0, 1, 2, 3: the words ``(a, b, c, φ(1), φ(ω), φ(ω̄))`` with ``φ(x) = ax² + bx + c``
    (SPLAG ch. 11 §2). Weight distribution 1, 45, 18 at weights 0, 4, 6; read-only."""
    words = []
    for a, b, c in itertools.product(range(4), repeat=3):
        row = [a, b, c]
        for x in (1, 2, 3):
            row.append(_f4_mul(a, _f4_mul(x, x)) ^ _f4_mul(b, x) ^ c)
        words.append(row)
    out = np.array(words, dtype=np.uint8)
    out.setflags(write=False)
    return out


class E7Family(GluedFamily):
    """``e7``: E7 = {x ∈ E8 : Σx = 0} = A7 ∪ (A7 + (½⁴, −½⁴)) (SPLAG ch. 4 §8.2).

    Recorded: det 2, min norm 2, kissing 126, center density 1/16; covering radius
    √(3/2) (the deep holes are the glue vectors of E7*); normalized second moment
    163/(2016·2^{1/7}) ≈ 0.0732306 (SPLAG ch. 21 and Table 2.3).
    """

    family = "e7"
    pattern = "e7"
    examples = ("e7",)
    blocks = (tuple(range(8)),)
    ambient = 8
    frame_scale = sympy.Rational(1, 2)

    def glue_vectors(self):
        return np.array([[0] * 8, _G8], dtype=np.int64)

    @property
    def known(self) -> dict:
        return {"det": sympy.Integer(2), "min_norm": sympy.Integer(2), "kissing": 126}

    def known_normalized_second_moment(self):
        return sympy.Rational(163, 2016) * 2 ** sympy.Rational(-1, 7)

    def known_covering_radius(self):
        return sympy.sqrt(sympy.Rational(3, 2))


class E6Family(GluedFamily):
    """``e6``: E6 = {x ∈ E8 : Σx = 0, x₁ + x₈ = 0} = (A1 ⊕ A5) ∪ (A1 ⊕ A5 + (½⁴, −½⁴))
    (SPLAG ch. 4 §8.3).

    Recorded: det 3, min norm 2, kissing 72, center density 1/(8√3); covering radius
    √(4/3); normalized second moment 5/(56·3^{1/6}) ≈ 0.0743467 (SPLAG ch. 21 and
    Table 2.3).
    """

    family = "e6"
    pattern = "e6"
    examples = ("e6",)
    blocks = ((0, 7), (1, 2, 3, 4, 5, 6))
    ambient = 8
    frame_scale = sympy.Rational(1, 2)

    def glue_vectors(self):
        return np.array([[0] * 8, _G8], dtype=np.int64)

    @property
    def known(self) -> dict:
        return {"det": sympy.Integer(3), "min_norm": sympy.Integer(2), "kissing": 72}

    def known_normalized_second_moment(self):
        return sympy.Rational(5, 56) * 3 ** sympy.Rational(-1, 6)

    def known_covering_radius(self):
        return sympy.sqrt(sympy.Rational(4, 3))


class K12Family(GluedFamily):
    """``k12``: the Coxeter–Todd lattice, the hexacode's Construction A over Z[ω], in 18
    coordinates (six A2 blocks; module docstring).

    Recorded: det 729, min norm 4, kissing 756, center density 1/27 (SPLAG ch. 4 §9).
    Its normalized second moment has no closed form here (about 0.070096: Agrell,
    Pook-Kolb & Allen, "Glued lattices are better quantizers than K12", IEEE Trans. Inf.
    Theory 2024); the covering radius is estimated.
    """

    family = "k12"
    pattern = "k12"
    examples = ("k12",)
    blocks = tuple(tuple(range(3 * i, 3 * i + 3)) for i in range(6))
    ambient = 18
    frame_scale = 1 / sympy.sqrt(2)

    def glue_vectors(self):
        return _A2_LIFT[hexacode().astype(np.int64)].reshape(64, 18)

    @property
    def known(self) -> dict:
        return {"det": sympy.Integer(729), "min_norm": sympy.Integer(4), "kissing": 756}


@lru_cache(maxsize=1)
def reed_muller_1_4() -> np.ndarray:
    """The 32 words of the first-order Reed–Muller code RM(1, 4), ``(32, 16)`` uint8: the
    affine functions ``v ↦ a·v + b`` on F2⁴ (coordinate ``i`` is the point with binary
    digits of ``i``). Weights 0, 8, 16 occur 1, 30, 1 times; read-only."""
    pts = (np.arange(16)[:, None] >> np.arange(4)) & 1  # (16, 4)
    words = [((pts @ np.array(a)) + b) % 2 for a in itertools.product((0, 1), repeat=4)
             for b in (0, 1)]
    out = np.array(words, dtype=np.uint8)
    out.setflags(write=False)
    return out


class BW16Family(GluedFamily):
    """``bw16``: the Barnes–Wall lattice Λ16 (SPLAG ch. 4 §10), integer frame
    {y ∈ Z¹⁶ : y mod 2 ∈ RM(1, 4), Σy ≡ 0 (mod 4)} = ∪_c (c + 2·D16) over the 32 words of
    RM(1, 4) (read as 0/1 vectors), scale 1/√2.

    Recorded: det 256, min norm 4, kissing 4320 (480 of shape (±2², 0¹⁴) and 3840 of shape
    (±1⁸, 0⁸) on the 30 octads of RM(1, 4) with an even number of minus signs), center
    density 1/16. Theta series, dual (Λ16* ≅ Λ16/√2) and measures use the generic
    algorithms.
    """

    family = "bw16"
    pattern = "bw16"
    examples = ("bw16",)
    blocks = (tuple(range(16)),)
    block_kind = "d"
    ambient = 16
    frame_scale = 1 / sympy.sqrt(2)

    def glue_vectors(self):
        return reed_muller_1_4().astype(np.int64)

    @property
    def known(self) -> dict:
        return {"det": sympy.Integer(256), "min_norm": sympy.Integer(4), "kissing": 4320}

    def cube_side(self):
        return 4  # 4Z^16 lies in the frame: 4e_i = (2e_i + 2e_j) + (2e_i - 2e_j)
