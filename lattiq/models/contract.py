"""The tokenizer-generator contract: what a generator must agree with in its tokenizer.

The generator meets the tokenizer only through this contract — the code name, code
dimension, codebook size and scale schedule — and the quantizer's ``next_scale_inputs``
(STYLE.md, item 12). :func:`tokenizer_contract` reads it off a tokenizer;
:func:`check_contract` refuses a generator config that differs from it.
"""

from __future__ import annotations

__all__ = ["check_contract", "tokenizer_contract"]


def tokenizer_contract(tokenizer) -> dict:
    """What the generator must agree with: ``code``, ``code_dim``, ``codebook_size``,
    ``scales`` (list of [h, w]) and ``code_sha256`` (when the quantizer reports it)."""
    q = tokenizer.quantizer
    sched = getattr(q, "scale_schedule", None)
    if sched is None:
        raise ValueError(
            "this tokenizer is single-scale; the generator needs a multi-scale tokenizer "
            "(train one with --set model.quantizer.scales=[1,2,4,8] or a schedule name)"
        )
    qc = q.config() if hasattr(q, "config") else {}
    inner = qc.get("quantizer") or {}
    return {
        "code": str(tokenizer.config.quantizer.code),
        "code_dim": int(q.dim),
        "codebook_size": int(q.codebook_size),
        "scales": [[int(s), int(s)] for s in sched],
        "code_sha256": inner.get("code_sha256"),
    }


def check_contract(var_cfg, contract: dict, what: str = "tokenizer") -> None:
    """Refuse a tokenizer whose code or scale schedule differs from the generator's config.

    Raises ``ValueError`` listing every difference (``generator -> tokenizer``).
    """
    diffs = []
    for key in ("code", "code_dim", "codebook_size", "scales"):
        mine, theirs = getattr(var_cfg, key), contract.get(key)
        if key == "scales":
            mine = [list(s) for s in mine]
        if mine != theirs:
            diffs.append(f"{key}: {mine!r} -> {theirs!r}")
    if diffs:
        raise ValueError(
            f"the {what} does not match the generator's config (generator -> {what}):\n  "
            + "\n  ".join(diffs)
            + "\n(set the generator's model.code / code_dim / codebook_size / scales to the "
            "tokenizer's, or pass --match-tokenizer to train-var)"
        )
