"""Training state as safetensors + JSON: exact round trips (hypothesis trees, RNG states,
every optimizer the project builds), refusal of what is not data, malformed files."""

from __future__ import annotations

import copy
import json
import math
import random

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.runtime import state_io
from lattiq.runtime.rng import get_rng_state, seed_everything, set_rng_state
from lattiq.training.optim import OptimConfig, build_optimizer
from lattiq.training.schedules import make_lr_scheduler, restore_lr_scheduler


def _same(a, b, where="") -> None:
    """Exact equality with types: tensors bit-equal with dtype, tuples stay tuples."""
    assert type(a) is type(b) or (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                                  ), (where, type(a), type(b))  # fmt: skip
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8)
                           ), where  # bits, so that nan and -0.0 count too
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where


def _round_trip(tree):
    t, j = state_io.state_to_bytes(tree)
    json.loads(j)  # strict JSON (no NaN literals)
    return state_io.state_from_bytes(t, j)


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
_tensors = st.builds(
    lambda shape, dtype, seed: (torch.randn(shape, generator=torch.Generator().manual_seed(seed))
                                * 100).to(dtype),
    st.lists(st.integers(0, 3), max_size=3).map(tuple),
    st.sampled_from([torch.float32, torch.float64, torch.bfloat16, torch.float16, torch.int64,
                     torch.int8, torch.uint8, torch.bool]),
    st.integers(0, 2**31),
)
_arrays = st.builds(
    lambda n, dtype, seed: np.random.default_rng(seed).integers(0, 200, n).astype(dtype),
    st.integers(0, 5), st.sampled_from(["uint32", "int16", "float32", "float64", "bool"]),
    st.integers(0, 2**31),
)
_keys = st.one_of(st.text(max_size=6), st.integers(-5, 5))
_trees = st.recursive(
    st.one_of(_scalars, _tensors, _arrays),
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.lists(kids, max_size=4).map(tuple),
                           st.dictionaries(_keys, kids, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(tree=_trees)
def test_round_trip_is_exact(tree):
    _same(tree, _round_trip(tree))


def test_marker_like_keys_and_special_floats():
    tree = {"__tensor__": "0", "__tuple__": 1, "x": {"__dict__": [1]},
            5: (float("inf"), float("-inf"), -0.0, 1e-310, 0.1 + 0.2)}  # fmt: skip
    out = _round_trip(tree)
    _same(tree, out)
    assert math.copysign(1.0, out[5][2]) == -1.0


def test_rng_state_round_trip_restores_the_streams():
    seed_everything(3)
    state = _round_trip({"rng": [get_rng_state()]})
    want = (random.random(), np.random.rand(), torch.rand(3))  # noqa: NPY002
    seed_everything(99)
    set_rng_state(state["rng"][0])
    got = (random.random(), np.random.rand(), torch.rand(3))  # noqa: NPY002
    assert want[:2] == got[:2] and torch.equal(want[2], got[2])


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(5, 8)
        self.a = torch.nn.Linear(8, 8)
        self.b = torch.nn.Linear(8, 6)
        self.head = torch.nn.Linear(6, 3)

    def forward(self, i):
        return self.head(torch.relu(self.b(torch.relu(self.a(self.embed(i))))))


def _steps(model, opt, n, seed):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        i = torch.randint(0, 5, (7,), generator=g)
        y = torch.randint(0, 3, (7,), generator=g)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(i), y).backward()
        opt.step()


@pytest.mark.parametrize("matrix,scalar", [("dion", "adamw"), ("muon", "lion"),
                                           ("adamw", "adamw"), ("dion", "lion")])
def test_every_optimizer_resumes_exactly_through_the_state_files(matrix, scalar):
    torch.manual_seed(0)
    cfg = OptimConfig(matrix=matrix, scalar=scalar, lr=1e-2)
    a = _Net()
    opt_a = build_optimizer(a, cfg)
    _steps(a, opt_a, 3, seed=1)
    saved = opt_a.state_dict()
    b = copy.deepcopy(a)
    opt_b = build_optimizer(b, cfg)
    opt_b.load_state_dict(_round_trip({"optimizer": saved})["optimizer"])
    _same(opt_a.state_dict(), opt_b.state_dict())
    _steps(a, opt_a, 2, seed=2)
    _steps(b, opt_b, 2, seed=2)
    for (k, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), k


def test_lambda_scheduler_round_trip():
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.AdamW([p], lr=0.1)
    sched = make_lr_scheduler(opt, 10, "standard")
    for _ in range(4):
        opt.step()
        sched.step()
    opt2 = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    sched2 = make_lr_scheduler(opt2, 10, "standard")
    restore_lr_scheduler(sched2, _round_trip(sched.state_dict()))
    assert sched2.last_epoch == 4 and sched2.get_last_lr() == sched.get_last_lr()
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


@pytest.mark.parametrize("bad,where", [
    ({"a": [1, object()]}, "a[1]"),
    ({"f": lambda: 0}, "f"),
    ({"x": np.float64(1.0)}, "x"),
    ({"s": {1, 2}}, "s"),
    ({"arr": np.array(["a"])}, "arr"),
    ({"arr": np.zeros(2, dtype=np.uint64)}, "arr"),
    ({(1, 2): 3}, "dict key (1, 2)"),
])  # fmt: skip
def test_what_is_not_data_is_refused_when_saving(bad, where):
    with pytest.raises(TypeError, match=r"state entry") as e:
        state_io.pack_state(bad)
    assert where in str(e.value)


def _files(tree):
    return state_io.state_to_bytes(tree)


@pytest.mark.parametrize("skeleton,match", [
    ({"format": "other", "tree": 1}, "not a lattiq-state-v1"),
    ([1, 2], "not a lattiq-state-v1"),
    ({"format": state_io.FORMAT, "tree": {"__tensor__": "99"}}, "does not hold"),
    ({"format": state_io.FORMAT, "tree": {"__tensor__": "0", "x": 1}}, "extra keys"),
    ({"format": state_io.FORMAT, "tree": {"__evil__": 1}}, "unknown marker"),
    ({"format": state_io.FORMAT, "tree": {"__float__": "1e5"}}, "__float__"),
    ({"format": state_io.FORMAT, "tree": {"__dict__": [[1]]}}, "pairs"),
    ({"format": state_io.FORMAT, "tree": {"__dict__": [[[1], 2]]}}, "dict key"),
    ({"format": state_io.FORMAT, "tree": {"__ndarray__": "0", "dtype": "O"}}, "dtype"),
    ({"format": state_io.FORMAT, "tree": {"__ndarray__": "0", "dtype": "<u4"}}, "dtype"),
    ({"format": state_io.FORMAT, "tree": {"__tuple__": 3}}, "list"),
])  # fmt: skip
def test_malformed_skeletons_are_value_errors(skeleton, match):
    tensors = {"0": torch.zeros(2)}
    with pytest.raises(ValueError, match=match):
        state_io.unpack_state(skeleton, tensors, "x")


def test_malformed_files_are_value_errors_naming_the_source():
    t, j = _files({"a": torch.ones(3)})
    with pytest.raises(ValueError, match="where: the JSON part"):
        state_io.state_from_bytes(t, j[:-5], "where")
    with pytest.raises(ValueError, match="where: the tensor part"):
        state_io.state_from_bytes(t[: len(t) // 2], j, "where")
    with pytest.raises(ValueError, match="nested too deeply"):
        deep = {"format": state_io.FORMAT, "tree": None}
        node = deep
        for _ in range(5000):
            node["tree"] = {"tree": None}
            node = node["tree"]
        state_io.unpack_state(deep, {}, "x")
    values = {"format": state_io.FORMAT, "tree": {"__ndarray__": "0", "dtype": "<u1"}}
    with pytest.raises(ValueError, match="outside"):
        state_io.unpack_state(values, {"0": torch.tensor([300])}, "x")
