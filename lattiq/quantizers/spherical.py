"""``SphericalQuantizer``: exact nearest-codeword quantization on any spherical code.

Shape legend: ``...`` leading batch shape, ``d`` the code's dimension, ``K`` its size,
``n`` the number of tokens (all leading dimensions flattened).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lattiq.spherecodes.code import SphericalCode

from ._codebook import resolve_code
from .base import Quantizer, QuantizerOutput
from .registry import register_quantizer
from .search import (
    DEFAULT_MEMORY_BUDGET,
    LEECH_AUTO_SEARCH,
    rule_choice,
    search_class,
    tiled_nearest,
)
from .usage import CodeUsage

__all__ = ["LEECH_AUTO_SEARCH", "NAN_POLICIES", "SEARCH_BACKENDS", "SphericalQuantizer",
           "leech_auto_search"]

NAN_POLICIES = ("raise", "sentinel")
SEARCH_BACKENDS = ("auto", "torch", "numba", "tiled")


def leech_auto_search(device_type: str, n_tokens: int) -> str:
    """The Leech search that ``"auto"`` picks for ``n_tokens`` tokens on ``device_type``,
    read from :data:`~lattiq.quantizers.search.LEECH_AUTO_SEARCH` (the rule of
    :class:`~lattiq.quantizers.search.LeechSearch`)."""
    return rule_choice(LEECH_AUTO_SEARCH, device_type, n_tokens)


#: codebooks up to this size get a float table for ``indices_to_codes``
_MAX_TABLE = 2**22


def _is_compiling() -> bool:
    try:
        return bool(torch.compiler.is_compiling())
    except AttributeError:  # pragma: no cover - older torch
        return False


class _NormalizedSTE(torch.autograd.Function):
    """Forward: the codewords ``q``. Backward: the straight-through gradient, passed unchanged
    to ``ẑ = z/‖z‖`` and on through the normalization,

    .. math:: \\frac{\\partial L}{\\partial z} = \\frac{1}{\\lVert z\\rVert}
              \\big(g - \\hat z\\,\\langle \\hat z, g\\rangle\\big),

    which is what ``q + normalize(z) − sg(normalize(z))`` gives, without that expression's
    temporaries (zero rows get a zero gradient).
    """

    @staticmethod
    def forward(ctx, z: torch.Tensor, q: torch.Tensor, inv_norm: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(z, inv_norm)
        return q

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        z, inv = ctx.saved_tensors
        dot = (g * z).sum(dim=-1, keepdim=True) * (inv * inv)  # <ẑ, g> / ‖z‖
        gz = z * (-dot)
        gz.add_(g).mul_(inv)
        return gz, None, None


def _registry_nearest(code: Any, x: torch.Tensor, budget: int) -> torch.Tensor:
    """The registry's compiled structured search on CPU rows ``(n, d)``, in float64 chunks
    of at most ``min(budget, 8 MiB)``; NaN/Inf rows give -1 and zero rows 0 (as in torch)."""
    n, d = x.shape
    out = torch.empty(n, dtype=torch.long)
    finite = torch.isfinite(x).all(dim=1)
    all_finite = bool(finite.all())
    xs = x if all_finite else torch.where(finite[:, None], x, torch.zeros((), dtype=x.dtype))
    step = max(1, min(budget, 8 * 2**20) // (8 * d))  # float64 chunks of at most 8 MiB
    for s in range(0, n, step):
        chunk = xs[s : s + step].to(torch.float64).numpy()
        out[s : s + step] = torch.from_numpy(np.asarray(code.nearest(chunk), dtype=np.int64))
    return out if all_finite else torch.where(finite, out, torch.full_like(out, -1))


def _inv_norm(zf: torch.Tensor) -> torch.Tensor:
    """``1/‖z‖`` per row, ``(..., 1)``; 0 for zero rows; robust to norms that overflow."""
    norm = torch.linalg.vector_norm(zf, dim=-1, keepdim=True)
    inv = torch.where(norm > 0, 1.0 / norm, torch.zeros_like(norm))
    if not _is_compiling() and bool(torch.isinf(norm).any()):
        # finite rows whose squared norm overflows: rescale by the largest magnitude first
        m = zf.abs().amax(dim=-1, keepdim=True)
        inv_s = (1.0 / m) / torch.linalg.vector_norm(zf / m, dim=-1, keepdim=True)
        inv = torch.where(torch.isinf(norm), inv_s, inv)
    return inv


@register_quantizer("spherical", legacy="SphericalQuantizer")
class SphericalQuantizer(Quantizer):
    """Quantize to the nearest codeword of a fixed spherical code, with a straight-through
    gradient.

    .. math::
        \\hat z = \\frac{z}{\\lVert z\\rVert}, \\qquad
        k^\\star = \\operatorname{arg\\,max}_{k} \\langle \\hat z, c_k\\rangle, \\qquad
        \\mathrm{codes} = c_{k^\\star} + \\hat z - \\operatorname{sg}(\\hat z)

    so the forward value is exactly the codeword and the gradient reaches ``ẑ`` unchanged
    (Bengio et al. 2013; van den Oord et al. 2017). The codebook is a non-persistent buffer
    rebuilt from the registry; the code's name and sha256 go into :meth:`config` and into the
    module's extra state, and both are checked when loading.

    The search is exact and never forms a ``tokens × K`` matrix. It is chosen by what the
    code is: the code's :attr:`~lattiq.spherecodes.SphericalCode.structure` names a kind
    (``"leech-shell"``, ``"leech-subset"``, ``"roots"``, ``"sign"``, ...), and the search
    registered for that kind (:func:`~lattiq.quantizers.search.register_search`) runs as
    batched torch ops on any device, beside the code's own compiled numba search on CPU;
    codes without a structure get a tiled matmul-argmax. Quantization runs in float32
    (float64 when ``z`` is float64) with autocast off; codes come back in ``z.dtype``.

    Parameters
    ----------
    code : str or SphericalCode
        A registry name (``"leech"``, ``"e8"``, ``"bsq-16"``, ``"random-24-196560"``...) or a
        code object with ``name``, ``dim``, ``size`` and ``points`` (and optionally a
        ``structure``; without one it is searched by the tiled matmul-argmax).
    nan_policy : {"raise", "sentinel"}
        What a token holding NaN/Inf does. ``"raise"``: a ``ValueError`` naming how many
        values and which tokens. ``"sentinel"``: such tokens get index ``-1``, a zero code and
        a zero gradient. Under ``torch.compile`` the check cannot raise, so ``"raise"``
        behaves like ``"sentinel"`` there.
    memory_budget_bytes : int
        Bound on the search's temporary memory (tile or chunk size follows from it).
    search_backend : {"auto", "torch", "numba", "tiled"}
        ``"auto"``: for the Leech code, the search :data:`LEECH_AUTO_SEARCH` names for the
        device and the number of tokens (on CPU the compiled kernel; on CUDA, provisionally,
        cuBLAS brute force for small batches and the structured torch search for large
        ones); for other codes, on CPU tensors the code's compiled numba search where it
        declares a structure (binary codes excepted: their torch search is faster), the
        torch search otherwise and on every other device. Under ``torch.compile`` "auto"
        always runs the torch search. ``"numba"``: the compiled kernel on CPU tensors (the
        torch search elsewhere); refuses codes without one. ``"torch"``: the torch search
        everywhere. ``"tiled"``: the matmul-argmax for any code. Every choice returns the
        same indices.
    track_usage : bool
        Update :attr:`usage` in training mode.

    Notes
    -----
    A zero vector is assigned codeword 0 (deterministic, no NaN) and receives a zero
    gradient. Rows whose squared norm overflows the dtype are rescaled before normalizing.

    References
    ----------
    Spherical Leech Quantization, arXiv 2512.14697; Adoul & Barth, IEEE Trans. Inf. Theory
    34(5), 1988; Conway & Sloane, SPLAG, ch. 4.
    """

    def __init__(
        self,
        code: Any,
        *,
        nan_policy: str = "raise",
        memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET,
        search_backend: str = "auto",
        track_usage: bool = True,
    ):
        super().__init__()
        if nan_policy not in NAN_POLICIES:
            raise ValueError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
        if search_backend not in SEARCH_BACKENDS:
            raise ValueError(
                f"search_backend must be one of {SEARCH_BACKENDS}, got {search_backend!r}"
            )
        if int(memory_budget_bytes) < 2**16:
            raise ValueError(
                f"memory_budget_bytes must be at least 65536, got {memory_budget_bytes}"
            )
        spec = resolve_code(code)
        self.spec = spec
        self.dim = spec.dim
        self.codebook_size = spec.size
        self.nan_policy = nan_policy
        self.memory_budget_bytes = int(memory_budget_bytes)
        self.search_backend = search_backend
        self.track_usage = bool(track_usage)

        # the search: the one registered for the code's structure, else the tiled argmax
        structure = spec.structure
        cls = None if search_backend == "tiled" else search_class(structure.kind)
        self._int_scale: float | None = None
        self._codes_from_search = False
        if cls is not None:
            self.search = cls.from_structure(structure, self.memory_budget_bytes)
            table, self._int_scale = self.search.codebook(spec)
            self._codes_from_search = cls.computes_codes
        else:
            if spec.size > _MAX_TABLE * 16:
                raise ValueError(
                    f"code {spec.name!r} has {spec.size} codewords and no structured search"
                )
            self.search = None  # tiled matmul-argmax over self.codebook
            table = torch.as_tensor(spec.points.astype(np.float32))
        self.register_buffer("codebook", table, persistent=False)
        self.search_kind = "tiled" if self.search is None else structure.kind
        self.cpu_kernel = self._pick_cpu_kernel(search_backend)
        self.usage = CodeUsage(spec.size)

    def _pick_cpu_kernel(self, backend: str) -> bool:
        """Whether CPU tensors (outside ``torch.compile``) go to the code's own compiled
        structured search (:meth:`lattiq.spherecodes.SphericalCode.nearest`): for a
        ``SphericalCode`` that declares a structure, unless the torch search is asked for or
        its table entry says it is faster (binary codes)."""
        if backend in ("torch", "tiled"):
            return False
        if self.search is not None and not type(self.search).compiled_cpu:
            return False
        code = self.spec.code
        if isinstance(code, SphericalCode) and self.spec.structure.kind != "none":
            return True
        if backend == "numba":
            raise ValueError(
                f"search_backend='numba': code {self.code_name!r} has no compiled structured "
                "search; use 'auto'"
            )
        return False

    # ------------------------------------------------------------------ properties
    @property
    def code_name(self) -> str:
        return self.spec.name

    @property
    def code_sha256(self) -> str:
        return self.spec.sha256

    def extra_repr(self) -> str:
        return (
            f"code={self.code_name!r}, dim={self.dim}, codebook_size={self.codebook_size}, "
            f"search={self.search_kind!r}, nan_policy={self.nan_policy!r}"
        )

    # ------------------------------------------------------------------ device moves
    def _apply(self, fn, recurse=True):
        out = super()._apply(fn, recurse)
        # the usage histogram is not a buffer (DDP must not broadcast it); move it by hand
        probe = fn(torch.zeros(0, dtype=torch.long, device=self.usage.counts.device))
        self.usage.counts = self.usage.counts.to(probe.device)
        return out

    # ------------------------------------------------------------------ checks
    def _check_z(self, z: torch.Tensor, what: str = "z") -> None:
        if not isinstance(z, torch.Tensor):
            raise TypeError(f"{what} must be a torch.Tensor, got {type(z).__name__}")
        if not z.is_floating_point():
            raise TypeError(
                f"{what} must be a floating-point tensor, got {z.dtype}; cast it with .float()"
            )
        if z.ndim == 0 or z.shape[-1] != self.dim:
            raise ValueError(
                f"{what} must have last dimension {self.dim} (code {self.code_name!r}), "
                f"got shape {tuple(z.shape)}; inputs are channels-last (..., d)"
            )

    def _raise_non_finite(self, z: torch.Tensor, finite_tok: torch.Tensor) -> None:
        bad_vals = int((~torch.isfinite(z)).sum().item())
        bad_tok = (~finite_tok).nonzero()
        first = tuple(int(v) for v in bad_tok[0].tolist())
        raise ValueError(
            f"z holds {bad_vals} non-finite value(s) (NaN/Inf) in {bad_tok.shape[0]} token(s); "
            f"first bad token at index {first} of the leading shape {tuple(z.shape[:-1])}. "
            "Fix the upstream activations, or pass nan_policy='sentinel' to map such tokens "
            "to index -1 with a zero code"
        )

    def _finite_input(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The input of a forward pass: ``z`` checked (:meth:`_check_z`), cast to the compute
        dtype (float64 for float64 input, else float32) as ``zf`` (..., d), and
        ``nan_policy`` applied.

        Under ``"raise"`` (outside ``torch.compile``, which cannot raise) a non-finite token
        raises ``ValueError`` and ``(zf, None)`` comes back: every token is finite. Otherwise
        (sentinel semantics) non-finite tokens are zeroed and ``(zf, finite_tok)`` comes back,
        ``finite_tok`` (...) marking the finite ones.
        """
        self._check_z(z)
        zf = z.to(torch.float64 if z.dtype == torch.float64 else torch.float32)
        if self.nan_policy == "raise" and not _is_compiling():
            if not bool(torch.isfinite(zf).all()):
                self._raise_non_finite(z, torch.isfinite(zf).all(dim=-1))
            return zf, None
        finite_tok = torch.isfinite(zf).all(dim=-1)  # (...)
        return torch.where(finite_tok[..., None], zf, torch.zeros_like(zf)), finite_tok

    # ------------------------------------------------------------------ search
    def search_for(self, n_tokens: int, device_type: str) -> str:
        """The search a call with ``n_tokens`` tokens on ``device_type`` runs outside
        ``torch.compile``: ``"numba"``, ``"torch"`` or ``"tiled"``."""
        if self.search is None:
            return "tiled"
        rule = type(self.search).auto_rule
        if rule is not None and self.search_backend == "auto":
            choice = rule_choice(rule, device_type, int(n_tokens))
            if choice != "numba" or self.cpu_kernel:
                return choice
            return "torch"
        if self.cpu_kernel and device_type == "cpu":
            return "numba"
        return "torch"

    def _search(self, x: torch.Tensor) -> torch.Tensor:  # (n, d) -> (n,)
        if _is_compiling():
            choice = "tiled" if self.search is None else "torch"
        else:
            choice = self.search_for(x.shape[0], x.device.type)
        if choice == "numba" and x.device.type == "cpu":
            return _registry_nearest(self.spec.code, x.detach(), self.memory_budget_bytes)
        if choice == "tiled" or self.search is None:
            # (a scaled integer table has one norm, so its argmax is that of the unit codewords)
            return tiled_nearest(x.detach(), self.codebook.to(x.dtype), self.memory_budget_bytes)
        return self.search(x.detach())

    def _lookup(self, idx: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """Codes for valid indices, no checks: (...) -> (..., d)."""
        if self._codes_from_search:
            return self.search.codes(idx).to(dtype)
        if self._int_scale is not None:
            return self.codebook[idx].to(dtype).mul_(self._int_scale)
        return self.codebook[idx].to(dtype)

    # ------------------------------------------------------------------ contract
    def forward(self, z: torch.Tensor) -> QuantizerOutput:  # (..., d) -> codes (..., d)
        zf, finite_tok = self._finite_input(z)
        lead, cdt = z.shape[:-1], zf.dtype
        with torch.autocast(device_type=z.device.type, enabled=False):
            with torch.no_grad():
                inv = _inv_norm(zf)  # (..., 1)
                zn = zf * inv  # zero rows stay zero
                idx = self._search(zn.reshape(-1, self.dim)).to(z.device)  # (n,)
                del zn
            if finite_tok is None:
                q = self._lookup(idx, cdt)
            else:
                idx = torch.where(finite_tok.reshape(-1), idx, torch.full_like(idx, -1))
                q = self._lookup(idx.clamp(min=0), cdt)
                q = torch.where(idx[:, None] >= 0, q, torch.zeros_like(q))
            codes = _NormalizedSTE.apply(zf, q.reshape(zf.shape), inv)  # value: the codeword
            indices = idx.reshape(lead)
        if self.training and self.track_usage:
            self.usage.update(indices)
        aux = torch.zeros((), dtype=cdt, device=z.device)
        return QuantizerOutput(codes.to(z.dtype), indices, aux)

    def indices_to_codes(self, indices: torch.Tensor) -> torch.Tensor:  # (...) -> (..., d)
        """Codewords of ``indices`` as float32 unit vectors.

        Raises ``TypeError`` for non-integer indices and ``ValueError`` for indices outside
        ``[0, codebook_size)``.
        """
        if not isinstance(indices, torch.Tensor):
            indices = torch.as_tensor(indices)
        if indices.is_floating_point() or indices.dtype == torch.bool or indices.is_complex():
            raise TypeError(f"indices must be an integer tensor, got {indices.dtype}")
        if not _is_compiling() and indices.numel() > 0:
            bad = (indices < 0) | (indices >= self.codebook_size)
            if bool(bad.any()):
                first = int(indices[bad].reshape(-1)[0])
                raise ValueError(
                    f"{int(bad.sum())} index(es) outside [0, {self.codebook_size}) for code "
                    f"{self.code_name!r}, e.g. {first}"
                )
        return self._lookup(indices.long(), torch.float32)

    def codes_to_indices(self, codes: torch.Tensor) -> torch.Tensor:  # (..., d) -> (...)
        """Index of the nearest codeword of each (normalized) code vector; inverse of
        :meth:`indices_to_codes` on codewords."""
        self._check_z(codes, "codes")
        with torch.no_grad(), torch.autocast(device_type=codes.device.type, enabled=False):
            cdt = torch.float64 if codes.dtype == torch.float64 else torch.float32
            c = codes.to(cdt)
            if not _is_compiling():
                fin = torch.isfinite(c).all(dim=-1)
                if not bool(fin.all()):
                    self._raise_non_finite(codes, fin)
            flat = (c * _inv_norm(c)).reshape(-1, self.dim)
            return self._search(flat).to(codes.device).reshape(codes.shape[:-1])

    # ------------------------------------------------------------------ config
    def config(self) -> dict:
        """JSON-able description; :meth:`from_config` rebuilds the layer from it."""
        return {
            "type": self.kind,
            "code": self.code_name,
            "code_sha256": self.code_sha256,
            "dim": self.dim,
            "codebook_size": self.codebook_size,
            "nan_policy": self.nan_policy,
            "memory_budget_bytes": self.memory_budget_bytes,
            "search_backend": self.search_backend,
        }

    @classmethod
    def from_config(cls, config: dict, code: Any = None) -> SphericalQuantizer:
        """Rebuild from :meth:`config`, refusing a codebook whose sha256 differs.

        ``code`` overrides the registry lookup (for codes that are not registered).
        """
        for key in ("code", "code_sha256"):
            if key not in config:
                raise ValueError(f"quantizer config lacks {key!r}: {sorted(config)}")
        q = cls(
            config["code"] if code is None else code,
            nan_policy=config.get("nan_policy", "raise"),
            memory_budget_bytes=config.get("memory_budget_bytes", DEFAULT_MEMORY_BUDGET),
            search_backend=config.get("search_backend", "auto"),
        )
        _check_sha(config["code"], config["code_sha256"], q.code_sha256)
        return q

    def get_extra_state(self) -> torch.Tensor:
        """The code's sha256 as 32 bytes (uint8), so that a state dict names its codebook."""
        return torch.tensor(list(bytes.fromhex(self.code_sha256)), dtype=torch.uint8)

    def set_extra_state(self, state: Any) -> None:
        if isinstance(state, torch.Tensor):
            saved = bytes(state.to(torch.uint8).tolist()).hex()
        else:
            saved = str(state)
        _check_sha(self.code_name, saved, self.code_sha256)


def _check_sha(name: str, saved: str, current: str) -> None:
    if saved != current:
        raise ValueError(
            f"codebook mismatch for code {name!r}: the checkpoint was made with sha256 "
            f"{saved[:16]}..., but the code rebuilt here has sha256 {current[:16]}...; "
            "the code's definition or order changed, so saved indices would decode to other "
            "codewords. Rebuild with the original code (pass it as `code=`) or retrain"
        )
