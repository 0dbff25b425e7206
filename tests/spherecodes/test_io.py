"""Save / load: .npy + JSON sidecar and .safetensors, hashes verified."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lattiq.spherecodes import SphericalCode, get_code
from lattiq.spherecodes.io import load_code, meta_sha256, save_code


@pytest.mark.parametrize("ext", [".npy", ".safetensors"])
@pytest.mark.parametrize("name", ["leech", "leech-4600", "leech-891", "e8", "a3-shell1",
                                  "random-6-40-s2", "fibonacci-100"])
def test_round_trip_of_registered_codes(tmp_path, name, ext):
    C = get_code(name)
    path = tmp_path / f"code{ext}"
    C.save(path)
    L = SphericalCode.load(path)
    assert L is C  # name and hash match the registry: the structured code comes back


@pytest.mark.parametrize("ext", [".npy", ".safetensors"])
def test_round_trip_of_user_codes_keeps_the_exact_form(tmp_path, ext):
    V = get_code("leech-891").exact_form
    X = (V.vectors @ V.basis) * V.scale
    user = SphericalCode(name="mine", dim=22, size=891, points=np.array(X), exact_form=V)
    path = tmp_path / f"u{ext}"
    save_code(user, path)
    L = load_code(path)
    assert L.name == "mine" and L is not get_code("leech-891")
    np.testing.assert_array_equal(L.points, user.points)
    np.testing.assert_array_equal(L.exact_form.vectors, V.vectors)
    np.testing.assert_array_equal(L.exact_form.basis, V.basis)
    assert L.max_inner_product(exact=True) == get_code("leech-891").max_inner_product(exact=True)
    R = get_code("random-4-30-s9")
    P = SphericalCode(name="plain", dim=4, size=30, points=np.array(R.points))
    save_code(P, tmp_path / f"p{ext}")
    Q = load_code(tmp_path / f"p{ext}")
    assert Q.exact_form is None and Q.name == "plain"
    np.testing.assert_array_equal(Q.points, P.points)


def test_safetensors_files_read_with_the_reference_reader(tmp_path):
    stn = pytest.importorskip("safetensors.numpy")
    C = get_code("leech-891")
    C.save(tmp_path / "c.safetensors")
    d = stn.load_file(str(tmp_path / "c.safetensors"))
    np.testing.assert_array_equal(d["points"], C.points)
    np.testing.assert_array_equal(d["int_vectors"], C.exact_form.vectors)


def _flip(path, offset):
    b = bytearray(path.read_bytes())
    b[offset] ^= 0x01
    path.write_bytes(bytes(b))


@pytest.mark.parametrize("ext", [".npy", ".safetensors"])
def test_tampered_files_are_refused(tmp_path, ext):
    path = tmp_path / f"c{ext}"
    get_code("e8").save(path)
    _flip(path, -5)
    with pytest.raises(ValueError, match="SHA-256"):
        load_code(path)


@pytest.mark.parametrize("ext", [".npy", ".safetensors"])
def test_truncated_files_are_refused(tmp_path, ext):
    path = tmp_path / f"c{ext}"
    get_code("d4").save(path)
    path.write_bytes(path.read_bytes()[:-9])
    with pytest.raises(ValueError, match="truncated"):
        load_code(path)


def test_tampered_integer_form_and_metadata_are_refused(tmp_path):
    path = tmp_path / "c.npy"
    get_code("e8").save(path)
    side = tmp_path / "c.npy.json"
    meta = json.loads(side.read_text())
    meta["int_sha256"] = "0" * 64
    side.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="SHA-256 of the metadata"):
        load_code(path)
    meta["meta_sha256"] = meta_sha256(meta)  # a consistent forgery: the hash itself is redone
    side.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="integer form"):
        load_code(path)
    meta["size"] = 241
    meta["meta_sha256"] = meta_sha256(meta)
    side.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="metadata says"):
        load_code(path)
    side.write_text("{")
    with pytest.raises(ValueError, match="JSON"):
        load_code(path)
    side.unlink()
    with pytest.raises(ValueError, match="missing metadata sidecar"):
        load_code(path)


def test_bad_paths(tmp_path):
    with pytest.raises(ValueError, match=".npy or .safetensors"):
        get_code("e8").save(tmp_path / "c.txt")
    with pytest.raises(FileNotFoundError):
        load_code(tmp_path / "none.npy")
    (tmp_path / "junk.safetensors").write_bytes(b"\x05")
    with pytest.raises(ValueError, match="truncated"):
        load_code(tmp_path / "junk.safetensors")
    (tmp_path / "other.safetensors").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(ValueError, match="not a lattiq spherical code"):
        load_code(tmp_path / "other.safetensors")
    with pytest.raises(TypeError):
        save_code("leech", tmp_path / "c.npy")
