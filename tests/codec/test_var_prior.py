"""The generator's scale-by-scale hidden states (what the var prior codes with) against the
teacher-forced forward pass over all scales (an independent computation)."""

from __future__ import annotations

import torch

from lattiq.models.var import VAR, KVCache, VARConfig


def test_next_scale_hidden_matches_the_full_forward():
    torch.manual_seed(0)
    cfg = VARConfig(depth=2, width=32, heads=2, num_classes=3, code="bsq-6", code_dim=6,
                    codebook_size=64, scales=[1, 2, 3], head="bits")
    model = VAR(cfg).eval()
    for p in model.parameters():  # leave adaLN-Zero's zeros behind so every path matters
        p.data.add_(0.05 * torch.randn_like(p))
    B = 3
    labels = torch.tensor([0, 2, 3])
    inputs = [torch.randn(B, s, s, 6) for s in (2, 3)]
    with torch.no_grad():
        full = model(labels, inputs)  # (B, 14, D)
        cond = model.class_embed(labels)
        cache = KVCache(cfg.depth)
        parts = [model.next_scale_hidden(0, cond, None, cache)]
        for k, x in enumerate(inputs, start=1):
            parts.append(model.next_scale_hidden(k, cond, x, cache))
    inc = torch.cat(parts, dim=1)
    torch.testing.assert_close(inc, full, rtol=1e-5, atol=1e-5)
    assert cache.length == cfg.seq_len
