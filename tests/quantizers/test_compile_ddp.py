"""torch.compile (no graph breaks in the structured forward) and DDP with two gloo ranks."""

from __future__ import annotations

import gc
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from lattiq.quantizers import BSQQuantizer, MultiScaleQuantizer, SphericalQuantizer


@pytest.mark.parametrize("train", [False, True])
def test_leech_forward_has_no_graph_breaks(train):
    q = SphericalQuantizer("leech").train(train)
    ex = torch._dynamo.explain(q)(torch.randn(32, 24))
    assert ex.graph_break_count == 0, ex.break_reasons


def test_compiled_fullgraph_matches_eager():
    torch._dynamo.reset()
    q = SphericalQuantizer("leech")
    z = torch.randn(40, 24, requires_grad=True)
    cq = torch.compile(q, fullgraph=True, backend="aot_eager")
    out = cq(z)
    ref = q(z)
    assert torch.equal(out.indices, ref.indices) and torch.equal(out.codes, ref.codes)
    out.codes.sum().backward()
    assert torch.isfinite(z.grad).all()


def test_other_forwards_have_no_graph_breaks():
    for m, x in [
        (BSQQuantizer(16), torch.randn(64, 16)),
        (MultiScaleQuantizer(SphericalQuantizer("leech"), [1, 2, 4]), torch.randn(2, 4, 4, 24)),
    ]:
        ex = torch._dynamo.explain(m)(x)
        assert ex.graph_break_count == 0, ex.break_reasons


@pytest.mark.slow
def test_inductor_compile_matches_eager():
    torch._dynamo.reset()
    q = SphericalQuantizer("leech")
    z = torch.randn(64, 24)
    out = torch.compile(q, fullgraph=True)(z)
    assert torch.equal(out.indices, q(z).indices)


# --------------------------------------------------------------------------- DDP
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, outdir: str) -> None:
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        torch.manual_seed(0)  # same weights on both ranks
        model = torch.nn.Sequential(torch.nn.Linear(24, 24), SphericalQuantizer("leech"))
        ddp = DDP(model)
        g = torch.Generator().manual_seed(100 + rank)  # different data per rank
        x = torch.randn(50, 24, generator=g)
        out = ddp(x)
        out = ddp(x)
        out = ddp(x)  # three forwards: usage counts 150 tokens per rank
        loss = ((out.codes - x) ** 2).mean()
        loss.backward()
        q = model[1]
        local = q.usage.counts.clone()
        q.usage.sync()
        # BSQ batch entropy synchronized across ranks
        b = BSQQuantizer(8, sync_batch_entropy=True, inv_temperature=2.0)
        zb = torch.randn(30, 8, generator=g, requires_grad=True)
        be = b.entropy_terms(zb)["batch_entropy"]
        be.backward()
        torch.save(
            {
                "indices": out.indices,
                "local": local,
                "synced": q.usage.counts.clone(),
                "grad": model[0].weight.grad.clone(),
                "zb": zb.detach(),
                "be": be.detach(),
                "zb_grad_finite": bool(torch.isfinite(zb.grad).all()),
            },
            os.path.join(outdir, f"rank{rank}.pt"),
        )
        del ddp  # a live DDP reducer at teardown can abort the process under gloo
        gc.collect()
        dist.barrier()  # tear the group down only once both ranks are done with it
    finally:
        dist.destroy_process_group()


def test_ddp_two_gloo_ranks(tmp_path):
    mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    r = [torch.load(tmp_path / f"rank{i}.pt") for i in range(2)]
    # gradients are averaged: identical on both ranks
    torch.testing.assert_close(r[0]["grad"], r[1]["grad"])
    # each rank counted only its own indices (three forwards of 50 tokens), sync sums them
    assert int(r[0]["local"].sum()) == 150 and int(r[1]["local"].sum()) == 150
    assert torch.equal(r[0]["synced"], r[0]["local"] + r[1]["local"])
    assert torch.equal(r[0]["synced"], r[1]["synced"])
    # synchronized batch entropy equals the entropy of the pooled batch
    allz = torch.cat([r[0]["zb"], r[1]["zb"]])
    ref = BSQQuantizer(8, inv_temperature=2.0).entropy_terms(allz)["batch_entropy"]
    torch.testing.assert_close(r[0]["be"], ref)
    torch.testing.assert_close(r[1]["be"], ref)
    assert r[0]["zb_grad_finite"] and r[1]["zb_grad_finite"]
