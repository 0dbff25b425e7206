"""Bad and extreme input to the spherical-code API: each case is classified and asserted as
a correct answer (checked against brute force) or a clear error.

* ``nearest`` of every registered code at magnitudes from the smallest subnormal to
  1e308, against a brute-force argmax over the materialized points (the answer depends on
  the direction only); NaN/Inf, wrong shapes and dtypes.
* ``from_points`` of rows of any magnitude.
* Malformed names (hypothesis): only ``ValueError``, quickly.
* Malformed codebook files: truncated, random bytes, JSON of the wrong type, tampered
  fields and hashes, forgeries that recompute every hash, a file taking a registered
  code's name: ``ValueError`` (``FileNotFoundError`` for a missing file), never another
  exception and never a wrong code.
* One compiled numba signature per search kernel, whatever the input layout.
"""

from __future__ import annotations

import json
import struct
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lattiq.spherecodes import SphericalCode, get_code, list_codes
from lattiq.spherecodes import _kernels as sk
from lattiq.spherecodes import _kernels_design as skd
from lattiq.spherecodes import _kernels_leech as skl
from lattiq.spherecodes.code import rescale_rows
from lattiq.spherecodes.design import design_strength
from lattiq.spherecodes.io import load_code, meta_sha256, save_code
from lattiq.spherecodes.search import tiled_nearest

CODES = list_codes()  # the fixed codes and a small instance of every family
MAGNITUDES = [5e-324, 1e-310, 1e-300, 1e-170, 1e-20, 1.0, 1e20, 1e170, 1e300, 1e308]


def brute_nearest(points: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Argmax of <c, x> over all codewords after an exact power-of-two scaling of x (so
    that products neither overflow nor underflow); first index among equal scores."""
    m = np.abs(X).max(axis=1)
    _, e = np.frexp(m)
    Y = np.ldexp(X, -e[:, None])
    return np.argmax(Y @ points.T, axis=1), Y


@pytest.mark.parametrize("name", CODES)
def test_nearest_at_every_magnitude_matches_brute_force(name):
    C = get_code(name)
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    U = rng.standard_normal((8, C.dim))
    U /= np.abs(U).max(axis=1, keepdims=True)  # largest coordinate ±1: 1e308 stays finite
    P = C.points
    for t in MAGNITUDES:
        X = np.concatenate([U * t, np.zeros((1, C.dim))])
        got = C.nearest(X)
        want, Y = brute_nearest(P, X)
        S = Y @ P.T
        rows = np.arange(len(X))
        # equal up to float64 ties between codewords (a measure-zero event)
        assert np.all(S[rows, got] >= S[rows, want] - 1e-12), (name, t)
        assert got[-1] == 0  # a zero input takes index 0
        if t >= 1e-300:  # normal inputs: the answer is that of the direction
            assert np.array_equal(got[:-1], C.nearest(U)), (name, t)


def test_fibonacci_issue_case():
    C = get_code("fibonacci-1000")
    x = np.array([[0.3, -0.5, 0.8]])
    k = int(C.nearest(x)[0])
    assert k != 0
    for t in (1e-320, 1e-300, 1e-170, 1e-161, 1e300, 1.5e308):
        assert int(C.nearest(x * t)[0]) == k, t


def test_rescale_rows_is_exact_and_lazy():
    X = np.array([[3.0, -1.0], [1e-300, 2e-300], [1e300, -1e300], [0.0, 0.0]])
    Y = rescale_rows(X)
    assert Y is not X and np.array_equal(X[0], Y[0]) and not Y[3].any()
    for i in (1, 2):
        assert 0.5 <= np.abs(Y[i]).max() < 1.0
        assert np.array_equal(Y[i] / Y[i][0], X[i] / X[i][0])  # same direction, bit for bit
    Z = np.ones((3, 4))
    assert rescale_rows(Z) is Z  # nothing to do: no copy


@pytest.mark.parametrize("name", ["leech", "e8", "bsq-8", "fibonacci-1000", "random-24-1000-s0"])
def test_nearest_refuses_bad_input(name):
    C = get_code(name)
    for bad in (np.nan, np.inf, -np.inf):
        x = np.zeros((3, C.dim))
        x[2, 1] = bad
        with pytest.raises(ValueError, match="NaN or Inf"):
            C.nearest(x)
    for arr in (np.zeros((2, C.dim), complex), np.zeros((2, C.dim), object),
                np.full((2, C.dim), "a"), np.zeros((2, C.dim), bool)):
        with pytest.raises(TypeError, match="real numbers"):
            C.nearest(arr)
    with pytest.raises(ValueError, match="shape"):
        C.nearest(np.zeros((2, C.dim + 1)))
    with pytest.raises(ValueError, match="shape"):
        C.nearest(1.0)
    with pytest.raises(TypeError):
        C.nearest([["a"] * C.dim])
    assert C.nearest(np.zeros((0, C.dim))).shape == (0,)


# ---------------------------------------------------------------------------- from_points


def test_from_points_at_every_magnitude():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20, 5))
    X /= np.abs(X).max(axis=1, keepdims=True)  # largest coordinate ±1: 1e308 stays finite
    ref = SphericalCode.from_points(X / np.linalg.norm(X, axis=1, keepdims=True)).points
    for t in MAGNITUDES[1:]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            C = SphericalCode.from_points(X * t)
        np.testing.assert_allclose(C.points, ref, rtol=0, atol=1e-13 if t > 1e-300 else 1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        C = SphericalCode.from_points([[1e300, 1e300], [1e300, -1e300]])
    s = np.sqrt(0.5)
    np.testing.assert_allclose(C.points, [[s, s], [s, -s]], rtol=0, atol=2e-16)


def test_from_points_refuses_bad_input():
    with pytest.raises(ValueError, match="zero vector"):
        SphericalCode.from_points([[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="NaN or Inf"):
        SphericalCode.from_points([[1.0, 0.0], [np.inf, 0.0]])
    with pytest.raises(TypeError):
        SphericalCode.from_points([[1 + 1j, 0.0]])
    with pytest.raises(TypeError):
        SphericalCode.from_points(np.array([[True, False]]))
    with pytest.raises(ValueError, match="shape"):
        SphericalCode.from_points(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="name"):
        SphericalCode.from_points([[1.0, 0.0]], name="")
    # huge integers: no exact form (its norms would overflow int64), but correct points
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        C = SphericalCode.from_points(np.array([[2**62, 0], [0, -(2**62)]], dtype=np.int64))
    assert C.exact_form is None
    np.testing.assert_array_equal(C.points, [[1.0, 0.0], [0.0, -1.0]])


# ---------------------------------------------------------------------------- names

_NUM = st.sampled_from(["0", "1", "2", "3", "4", "8", "24", "62", "63", "64", "65", "100",
                        "4096", "99999", "100000", "2147483648", "1099511627777",
                        "99999999999999999999", "01", "-1", ""])


@st.composite
def near_code_names(draw):
    form = draw(st.sampled_from([
        "{a}-shell{b}", "bsq-{a}", "fibonacci-{a}", "fibonacci-{a}-{b}", "random-{a}-{b}",
        "random-{a}-{b}-s{c}", "leech-{a}", "e{a}-shell{b}", "{a}", "leech{a}",
    ]))
    lat = draw(st.sampled_from(["leech", "e8", "d", "z", "a", "q"])) + (
        draw(_NUM) if draw(st.booleans()) else "")
    return form.format(a=lat if form.startswith("{a}-") else draw(_NUM), b=draw(_NUM),
                       c=draw(_NUM))


@settings(max_examples=300, deadline=5000)
@given(st.one_of(st.text(max_size=40), near_code_names()))
def test_malformed_code_names_only_raise_value_error(name):
    try:
        C = get_code(name)
    except ValueError as err:
        assert str(err)
    else:
        assert isinstance(C, SphericalCode) and C.size >= 1


def test_code_name_of_the_wrong_type():
    for bad in (None, 8, b"leech", ["leech"]):
        with pytest.raises(TypeError, match="string"):
            get_code(bad)


# ---------------------------------------------------------------------------- files


def _user_code() -> SphericalCode:
    rng = np.random.default_rng(8)
    X = rng.standard_normal((30, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return SphericalCode.from_points(X, name="mine")


def _resign(meta: dict) -> dict:
    """A forger's edit: recompute the metadata hash after changing fields."""
    meta["meta_sha256"] = meta_sha256(meta)
    return meta


@pytest.mark.parametrize("ext", [".npy", ".safetensors"])
def test_truncated_and_random_files_are_refused(tmp_path, ext):
    src = tmp_path / f"src{ext}"
    get_code("d4").save(src)
    raw = src.read_bytes()
    rng = np.random.default_rng(12)
    cuts = sorted({0, 1, 7, 8, 9, len(raw) // 2, len(raw) - 1,
                   *rng.integers(0, len(raw), size=20).tolist()})
    for i, cut in enumerate(cuts):
        p = tmp_path / f"cut{i}{ext}"
        p.write_bytes(raw[:cut])
        if ext == ".npy":
            (tmp_path / f"cut{i}{ext}.json").write_bytes((tmp_path / f"src{ext}.json")
                                                         .read_bytes())
        with pytest.raises(ValueError):
            load_code(p)
    for i in range(20):
        p = tmp_path / f"rnd{i}{ext}"
        p.write_bytes(rng.integers(0, 256, size=int(rng.integers(0, 400)), dtype=np.uint8)
                      .tobytes())
        if ext == ".npy":
            (tmp_path / f"rnd{i}{ext}.json").write_bytes(rng.integers(
                0, 256, size=50, dtype=np.uint8).tobytes())
        with pytest.raises(ValueError):
            load_code(p)
    for i in range(20):  # single flipped bits anywhere
        b = bytearray(raw)
        b[int(rng.integers(0, len(b)))] ^= 1 << int(rng.integers(0, 8))
        p = tmp_path / f"flip{i}{ext}"
        p.write_bytes(bytes(b))
        if ext == ".npy":
            (tmp_path / f"flip{i}{ext}.json").write_bytes((tmp_path / f"src{ext}.json")
                                                          .read_bytes())
        try:
            C = load_code(p)
        except ValueError:
            continue
        assert C is get_code("d4")  # a flip in padding: the same, verified code


@pytest.mark.parametrize("sidecar", ["[1, 2, 3]", "42", '"leech"', "null", "true", "{",
                                     "[" * 100_000 + "]" * 100_000, "\xff\xfe", ""])
def test_sidecar_of_the_wrong_json_type_is_refused(tmp_path, sidecar):
    p = tmp_path / "c.npy"
    get_code("e8").save(p)
    (tmp_path / "c.npy.json").write_bytes(sidecar.encode("utf-8", "surrogateescape")
                                          if sidecar != "\xff\xfe" else b"\xff\xfe")
    with pytest.raises(ValueError, match="JSON|not a lattiq|metadata"):
        load_code(p)


def _sidecar_cases():
    base = json.loads(json.dumps({"x": 1}))  # placeholder, filled per test
    del base
    return [
        ("dim", 8.0, "malformed|metadata"), ("dim", True, "malformed|metadata"),
        ("size", -240, "size"), ("size", "many", "malformed|metadata"),
        ("name", 5, "name"), ("name", "", "name"), ("version", 99, "version"),
        ("version", "x", "version"), ("format", "other", "not a lattiq"),
        ("int_norm", 0, "exact form|norm"), ("int_norm", 9, "norm|scale"),
        ("int_scale", 0.5, "scale"), ("sha256", "0" * 64, "SHA-256 of the points"),
        ("int_sha256", "0" * 64, "integer form"),
    ]


@pytest.mark.parametrize("field,value,match", _sidecar_cases())
def test_tampered_sidecar_fields_are_refused_even_with_a_recomputed_hash(tmp_path, field,
                                                                         value, match):
    p = tmp_path / "c.npy"
    get_code("e8").save(p)
    side = tmp_path / "c.npy.json"
    meta = json.loads(side.read_text())
    meta[field] = value
    side.write_text(json.dumps(meta))  # plain tampering: the metadata hash catches it
    with pytest.raises(ValueError, match="SHA-256 of the metadata|not a lattiq|version"):
        load_code(p)
    side.write_text(json.dumps(_resign(meta)))  # forgery: the meaning is checked too
    with pytest.raises(ValueError, match=match):
        load_code(p)


def test_a_file_cannot_call_itself_a_registered_code(tmp_path):
    C = _user_code()
    p = tmp_path / "c.npy"
    save_code(C, p)
    side = tmp_path / "c.npy.json"
    meta = json.loads(side.read_text())
    for name in ("leech", "e8", "random-4-30-s0", "bsq-2", "fibonacci-1", "d4-shell2"):
        meta["name"] = name
        side.write_text(json.dumps(_resign(meta)))
        with pytest.raises(ValueError, match="registered code"):
            load_code(p)
    # saving under a registered name is refused too
    impostor = SphericalCode("leech", C.dim, C.size, points=np.array(C.points))
    with pytest.raises(ValueError, match="registered code"):
        save_code(impostor, tmp_path / "x.npy")
    assert not (tmp_path / "x.npy").exists()


def test_forged_points_and_exact_forms_are_refused(tmp_path):
    # the forger rewrites points and every hash: the meaning of the fields still fails
    C = get_code("leech-891")
    p = tmp_path / "c.safetensors"
    user = SphericalCode("mine", C.dim, C.size, points=np.array(C.points),
                         exact_form=C.exact_form)
    save_code(user, p)
    from lattiq.spherecodes import io

    meta, tensors = io._read_safetensors(str(p))

    def rewrite(meta, tensors, path):
        meta = {k: str(v) for k, v in meta.items() if k != "meta_sha256"}
        meta["sha256"] = io.points_sha256(tensors["points"])
        if "int_vectors" in tensors:
            meta["int_sha256"] = io._int_sha256(tensors["int_vectors"])
        meta["meta_sha256"] = meta_sha256(meta)
        io._write_safetensors(str(path), tensors, meta)

    bad = dict(tensors, points=np.array(tensors["points"]) * 2.0)  # not unit vectors
    rewrite(meta, bad, tmp_path / "a.safetensors")
    with pytest.raises(ValueError, match="unit vectors"):
        load_code(tmp_path / "a.safetensors")
    V = np.array(tensors["int_vectors"])
    V[0] = -V[0]  # integer form no longer reproduces the points
    rewrite(meta, dict(tensors, int_vectors=V), tmp_path / "b.safetensors")
    with pytest.raises(ValueError, match="reproduce the points"):
        load_code(tmp_path / "b.safetensors")
    m2 = dict(meta, int_norm="48")  # the norm of another code
    rewrite(m2, tensors, tmp_path / "c2.safetensors")
    with pytest.raises(ValueError, match="not 1/sqrt|norm"):
        load_code(tmp_path / "c2.safetensors")
    B = np.array(tensors["basis"]) * 1.5  # basis no longer orthonormal
    m3 = dict(meta, int_basis_sha256=io._basis_sha256(B))
    rewrite(m3, dict(tensors, basis=B), tmp_path / "d.safetensors")
    with pytest.raises(ValueError, match="orthonormal"):
        load_code(tmp_path / "d.safetensors")
    nan = np.array(tensors["points"])
    nan[0, 0] = np.nan
    rewrite(meta, dict(tensors, points=nan), tmp_path / "e.safetensors")
    with pytest.raises(ValueError, match="NaN"):
        load_code(tmp_path / "e.safetensors")


def _raw_safetensors(path, header) -> None:
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"\0" * 64)


@pytest.mark.parametrize("header,match", [
    ([1, 2], "not an object"),
    ({"__metadata__": [1]}, "not an object"),
    ({"__metadata__": {}, "points": "x"}, "bad entry"),
    ({"__metadata__": {}, "points": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}},
     "bad entry"),
    ({"__metadata__": {}, "points": {"dtype": "F64", "shape": [-1, 2],
                                     "data_offsets": [0, 16]}}, "negative"),
    ({"__metadata__": {}, "points": {"dtype": "F64", "shape": [10**12, 24],
                                     "data_offsets": [0, 8 * 24 * 10**12]}}, "truncated"),
    ({"__metadata__": {}, "points": {"dtype": "F64", "shape": [2, 2],
                                     "data_offsets": [8, 30]}}, "truncated|corrupt"),
    ({"__metadata__": {"format": "lattiq-spherical-code", "version": "2"}}, "meta_sha256"),
])
def test_malformed_safetensors_headers_are_refused(tmp_path, header, match):
    p = tmp_path / "h.safetensors"
    _raw_safetensors(p, header)
    with pytest.raises(ValueError, match=match):
        load_code(p)


def test_pickled_and_missing_files(tmp_path):
    p = tmp_path / "obj.npy"
    np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "obj.npy.json").write_text("{}")
    with pytest.raises(ValueError):
        load_code(p)  # the sidecar is refused first; the pickle is never read
    good = tmp_path / "g.npy"
    get_code("d4").save(good)
    (tmp_path / "obj.npy.json").write_text((tmp_path / "g.npy.json").read_text())
    with pytest.raises(ValueError, match="not a .npy|truncated"):
        load_code(p)  # allow_pickle=False: refused, nothing unpickled
    with pytest.raises(FileNotFoundError):
        load_code(tmp_path / "none.safetensors")
    with pytest.raises(ValueError, match=".npy or .safetensors"):
        load_code(tmp_path / "c.pkl")


def test_version_1_files_still_load_with_a_warning(tmp_path):
    p = tmp_path / "old.npy"
    get_code("e8").save(p)
    side = tmp_path / "old.npy.json"
    meta = json.loads(side.read_text())
    for k in ("meta_sha256",):
        del meta[k]
    meta["version"] = 1
    side.write_text(json.dumps(meta))
    with pytest.warns(UserWarning, match="version 1"):
        assert load_code(p) is get_code("e8")


# ---------------------------------------------------------------------------- layouts


def _layouts(x: np.ndarray):
    r = x.copy()
    r.setflags(write=False)
    wide = np.zeros((x.shape[0] * 2, x.shape[1]))
    wide[::2] = x
    yield r
    yield wide[::2]
    yield np.asfortranarray(x)
    yield x.astype(">f8")
    yield x.astype(np.float32)
    yield np.round(x * 3).astype(np.int16)


KERNELS = [sk.roots_nearest_kernel, sk.fibonacci_nearest_kernel, sk.leech_subset_kernel,
           sk.fibonacci_select_kernel, skl.leech_nearest_kernel, skd.tile_gegenbauer_sums]
LAYOUT_CODES = ["leech", "leech-4600", "leech-891", "e8", "d4", "bsq-8", "fibonacci-1000",
                "fibonacci-4-1000", "a2-shell1", "random-24-1000-s0"]


def test_input_layouts_reuse_one_compiled_signature():
    rng = np.random.default_rng(21)
    for name in LAYOUT_CODES:
        C = get_code(name)
        C.nearest(rng.standard_normal((3, C.dim)))
        C.vectors(np.arange(3))
    P = get_code("e8").points
    design_strength(np.array(P))
    before = [len(k.signatures) for k in KERNELS]
    assert all(b >= 1 for b in before)
    for name in LAYOUT_CODES:
        C = get_code(name)
        x = rng.standard_normal((5, C.dim))
        for y in _layouts(x):
            assert np.array_equal(C.nearest(y), C.nearest(np.array(y, dtype=np.float64)))
        for idx in (np.arange(4, dtype=np.int32), np.arange(4).astype(">i8"),
                    np.arange(6)[::2]):
            C.vectors(idx)
    for y in _layouts(P):
        if y.dtype.kind == "f" and y.dtype.itemsize == 8:
            assert design_strength(y) == 7
    assert [len(k.signatures) for k in KERNELS] == before


def test_tiled_nearest_agrees_with_brute_force_on_rescaled_rows():
    rng = np.random.default_rng(4)
    P = get_code("random-24-1000-s0").points
    X = rng.standard_normal((50, 24)) * 1e-305
    assert np.array_equal(tiled_nearest(rescale_rows(X), P), brute_nearest(P, X)[0])
