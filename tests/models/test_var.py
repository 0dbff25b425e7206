"""VAR model: block-causal attention, KV-cache sampling equals recomputation, bad input."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lattiq.models.var import (
    VAR,
    VAR_PRESETS,
    NonFiniteLogitsError,
    VARConfig,
    guidance_schedule,
    var_preset,
)

SCALES = [[1, 1], [2, 2], [3, 3], [4, 4]]


def _model(head="full", V=40, seed=0, dtype=torch.float64, **kw):
    code = {"full": "random", "dit": "leech", "bits": f"bsq-{max(V.bit_length() - 1, 1)}"}[head]
    cfg = VARConfig(head=head, codebook_size=V, code=code, code_dim=6, scales=SCALES, **kw)
    torch.manual_seed(seed)
    m = VAR(cfg).to(dtype)
    with torch.no_grad():  # leave adaLN-Zero so that every path carries signal
        for blk in m.blocks:
            blk.ada.weight.normal_(std=0.05)
        m.final_ada.weight.normal_(std=0.05)
    return m.eval()


def _next_input_fn(m, seed=0):
    """A stand-in for the quantizer's next-scale input: a random code table, resized."""
    g = torch.Generator().manual_seed(seed)
    E = torch.randn(m.cfg.codebook_size, m.cfg.code_dim, generator=g, dtype=torch.float64)

    def f(indices):
        k = len(indices)
        acc = 0
        for idx in indices:
            x = E[idx].permute(0, 3, 1, 2)
            acc = acc + F.interpolate(x, size=tuple(SCALES[-1]), mode="bilinear")
        out = F.interpolate(acc, size=tuple(SCALES[k]), mode="area")
        return out.permute(0, 2, 3, 1).to(m.pos_embed.dtype)

    return f


def test_mask_is_block_causal():
    m = _model()
    lv = torch.cat([torch.full((h * w,), k) for k, (h, w) in enumerate(SCALES)])
    L = lv.numel()
    for i in range(L):
        for j in range(L):
            assert bool(m.mask_LL[i, j]) == bool(lv[j] <= lv[i])
    assert m.mask_LL.shape == (30, 30)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_outputs_of_coarser_scales_ignore_finer_inputs(k):
    m = _model()
    g = torch.Generator().manual_seed(k)
    labels = torch.tensor([1, 4])
    inputs = [torch.randn(2, h, w, 6, generator=g, dtype=torch.float64) for h, w in SCALES[1:]]
    h0 = m(labels, inputs)
    changed = list(inputs)
    changed[k - 1] = changed[k - 1] + 1.0  # the input of scale k
    h1 = m(labels, changed)
    off = m._offsets
    assert torch.equal(h0[:, : off[k]], h1[:, : off[k]])
    assert not torch.allclose(h0[:, off[k] :], h1[:, off[k] :])


def test_class_condition_changes_all_scales():
    m = _model()
    inputs = [torch.randn(1, h, w, 6, dtype=torch.float64) for h, w in SCALES[1:]]
    a = m(torch.tensor([0]), inputs)
    b = m(torch.tensor([10]), inputs)  # the null label
    for k in range(4):
        s, e = m._offsets[k], m._offsets[k + 1]
        assert not torch.allclose(a[:, s:e], b[:, s:e])


@pytest.mark.parametrize(
    "head,V,guidance",
    [("full", 40, 1.0), ("full", 40, 2.5), ("bits", 64, 1.0), ("bits", 64, 2.5),
     ("dit", 196560, 2.5)],
)
def test_kv_cache_sampling_equals_recomputation(head, V, guidance):
    m = _model(head, V)
    f = _next_input_fn(m)
    labels = torch.tensor([0, 3, 9])
    kw = dict(guidance=guidance, top_k=5 if head != "bits" else 0, top_p=0.9, temperature=1.2)
    a = m.generate(labels, f, generator=torch.Generator().manual_seed(7), **kw)
    b = m.generate(labels, f, generator=torch.Generator().manual_seed(7), use_cache=False, **kw)
    assert [t.shape for t in a] == [(3, h, w) for h, w in SCALES]
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
        assert x.min() >= 0 and x.max() < V


def test_kv_cache_hidden_states_equal_full_pass():
    # teacher-forced: the cached per-scale hidden states equal the one-pass forward
    m = _model()
    from lattiq.models.var import KVCache

    labels = torch.tensor([2, 5])
    inputs = [torch.randn(2, h, w, 6, dtype=torch.float64) for h, w in SCALES[1:]]
    full = m(labels, inputs)
    cond = m.class_embed(labels)
    cache = KVCache(m.cfg.depth)
    outs = []
    for k in range(4):
        x = (m.start_embed.expand(2, -1, -1) + cond[:, None] if k == 0
             else m.word_embed(inputs[k - 1].reshape(2, -1, 6)))
        outs.append(m._trunk(m._embed(k, x), cond, None, cache))
    torch.testing.assert_close(torch.cat(outs, 1), full, rtol=1e-10, atol=1e-12)
    assert cache.length == m.cfg.seq_len


def test_generate_is_deterministic_given_generator():
    m = _model()
    f = _next_input_fn(m)
    labels = torch.tensor([1, 1])
    a = m.generate(labels, f, generator=torch.Generator().manual_seed(3))
    b = m.generate(labels, f, generator=torch.Generator().manual_seed(3))
    c = m.generate(labels, f, generator=torch.Generator().manual_seed(4))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(a, c, strict=True))


def test_loss_backward_each_head():
    for head, V in [("full", 40), ("bits", 64), ("dit", 196560)]:
        m = _model(head, V, dtype=torch.float32).train()
        labels = torch.tensor([0, 7])
        inputs = [torch.randn(2, h, w, 6) for h, w in SCALES[1:]]
        targets = [torch.randint(0, V, (2, h, w)) for h, w in SCALES]
        out = m.loss(labels, inputs, targets)
        out.loss.backward()
        assert torch.isfinite(out.loss)
        assert m.word_embed.weight.grad is not None and m.head.proj.weight.grad is not None


def test_guidance_schedule():
    assert guidance_schedule(3.0, 5) == [1.0, 1.5, 2.0, 2.5, 3.0]
    assert guidance_schedule(2.0, 3, "constant") == [2.0, 2.0, 2.0]
    assert guidance_schedule([1, 2], 2) == [1, 2]
    assert guidance_schedule(4.0, 1) == [4.0]
    with pytest.raises(ValueError, match="guidance"):
        guidance_schedule(-1.0, 3)
    with pytest.raises(ValueError, match="guidance"):
        guidance_schedule(float("nan"), 3)
    with pytest.raises(ValueError, match="3 scales"):
        guidance_schedule([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="linear"):
        guidance_schedule(2.0, 3, "cosine")


def test_bad_input():
    m = _model()
    f = _next_input_fn(m)
    with pytest.raises(ValueError, match="out of range"):
        m.generate(torch.tensor([10]), f)  # null label is not a class to sample
    with pytest.raises(ValueError, match="out of range"):
        m.generate(torch.tensor([-1]), f)
    with pytest.raises(ValueError, match="out of range"):
        m(torch.tensor([11]), [torch.zeros(1, h, w, 6, dtype=torch.float64)
                               for h, w in SCALES[1:]])
    with pytest.raises(TypeError, match="int64"):
        m.generate(torch.tensor([1.0]), f)
    with pytest.raises(ValueError, match="top_k"):
        m.generate(torch.tensor([1]), f, top_k=-3)
    with pytest.raises(ValueError, match="top_k"):
        m.generate(torch.tensor([1]), f, top_k=41)
    with pytest.raises(ValueError, match="top_p"):
        m.generate(torch.tensor([1]), f, top_p=0.0)
    with pytest.raises(ValueError, match="temperature"):
        m.generate(torch.tensor([1]), f, temperature=-1.0)
    with pytest.raises(ValueError, match="guidance"):
        m.generate(torch.tensor([1]), f, guidance=float("inf"))
    with pytest.raises(ValueError, match="scale 2"):
        m(torch.tensor([1]), [torch.zeros(1, 2, 2, 6), torch.zeros(1, 4, 4, 6),
                              torch.zeros(1, 4, 4, 6)])
    with pytest.raises(ValueError, match="expected"):
        m.generate(torch.tensor([1]), lambda idx: torch.zeros(1, 9, 9, 6))


def test_nonfinite_logits_reported_with_scale():
    m = _model()
    f = _next_input_fn(m)
    with torch.no_grad():
        m.word_embed.weight.fill_(float("nan"))  # scale 0 (start token) is fine, scale 1 is not
    with pytest.raises(NonFiniteLogitsError, match="scale 1") as e:
        m.generate(torch.tensor([1]), f)
    assert e.value.scale == 1
    m2 = _model()
    with torch.no_grad():
        m2.head.proj.bias.fill_(float("inf"))
    with pytest.raises(NonFiniteLogitsError, match="scale 0"):
        m2.generate(torch.tensor([1]), f)


def test_config_validation_and_presets():
    with pytest.raises(ValueError, match="multiple of heads"):
        VARConfig(width=10, heads=3)
    with pytest.raises(ValueError, match="Leech head"):
        VAR(VARConfig(head="dit", code="bsq-18", codebook_size=2**18))
    with pytest.raises(ValueError, match="BSQ head"):
        VAR(VARConfig(head="bits", code="leech"))
    with pytest.raises(ValueError, match="class_drop"):
        VARConfig(class_drop=1.0)
    with pytest.raises(ValueError, match="unknown VAR preset"):
        var_preset("huge")
    assert VARConfig(scales=[1, 2]).scales == [[1, 1], [2, 2]]
    c = var_preset("d12")
    assert (c.depth, c.width, c.heads) == (12, 768, 12)
    for name in VAR_PRESETS:
        cfg = var_preset(name)
        assert cfg.width % cfg.heads == 0
    tiny = VAR(var_preset("tiny", codebook_size=64, code="bsq-6", head="bits"))
    assert sum(p.numel() for p in tiny.parameters()) < 500_000


def test_drop_labels_rate():
    m = _model(class_drop=0.25)
    lab = torch.zeros(20000, dtype=torch.long)
    out = m.drop_labels(lab, torch.Generator().manual_seed(0))
    frac = (out == 10).float().mean().item()
    assert abs(frac - 0.25) < 0.02
    assert set(out.unique().tolist()) <= {0, 10}


def test_embedding_norms_against_hand_computation():
    m = _model()
    g = torch.Generator().manual_seed(5)
    inputs = [torch.randn(3, h, w, 6, generator=g, dtype=torch.float64) for h, w in SCALES[1:]]
    got = m.embedding_norms(inputs)
    x = torch.cat([t.reshape(3, -1, 6) for t in inputs], 1)
    content = (x @ m.word_embed.weight.T + m.word_embed.bias).norm(dim=-1).mean()
    level = torch.cat([torch.full((h * w,), k) for k, (h, w) in enumerate(SCALES)])[1:]
    pos = (m.pos_embed[0, 1:] + m.level_embed.weight[level]).norm(dim=-1).mean()
    assert abs(got["content"] - float(content)) < 1e-9
    assert abs(got["position"] - float(pos)) < 1e-9
    assert abs(got["ratio"] - float(content / pos)) < 1e-9


def test_a_full_head_over_an_astronomical_codebook_is_refused_with_its_size():
    from lattiq.models.var import VAR, var_preset

    cfg = var_preset("tiny", code="bsq-62", code_dim=62, codebook_size=2**62,
                     scales=[[1, 1], [2, 2]], head="full")
    with pytest.raises(ValueError, match=r"full softmax head over 4\.61e\+18 codes .* use "
                                         r"head 'bits'"):
        VAR(cfg)
    bits = VAR(var_preset("tiny", code="bsq-62", code_dim=62, codebook_size=2**62,
                          scales=[[1, 1], [2, 2]], head="bits"))
    assert sum(p.numel() for p in bits.parameters()) < 10**7
