"""The result cache: JSON entries keyed by inputs and a source digest; corrupt ones are
recomputed, never trusted."""

import json

import pytest

from lattiq.report import run_report
from lattiq.resultcache import ResultCache, cache_root, source_digest


@pytest.fixture
def store(tmp_path):
    return ResultCache("t", ("lattiq.report",), root=tmp_path)


def test_round_trip_keeps_order_and_counts(store):
    calls = []
    value = {"b": 1, "a": [1.5, None, "x"], "c": {"3/4": 2, "1/2": 1}}

    def compute():
        calls.append(1)
        return value

    assert store.get_or_compute({"k": 1}, compute) == value
    got = store.get_or_compute({"k": 1}, compute)
    assert got == value and list(got) == ["b", "a", "c"] and list(got["c"]) == ["3/4", "1/2"]
    assert len(calls) == 1 and (store.hits, store.misses) == (1, 1)
    assert store.get({"k": 2}) is None  # another key


@pytest.mark.parametrize("damage", ["truncate", "value", "key", "not-json-object"])
def test_damaged_entry_is_dropped_and_recomputed(store, damage):
    key = {"name": "e8"}
    store.put(key, {"kissing": 240})
    p = store.path(key)
    entry = json.loads(p.read_text())
    if damage == "truncate":
        p.write_text(p.read_text()[:20])
    elif damage == "value":  # a changed value no longer matches its hash
        entry["value"]["kissing"] = 241
        p.write_text(json.dumps(entry))
    elif damage == "key":  # a file copied under another key's name
        entry["key"]["name"] = "d4"
        p.write_text(json.dumps(entry))
    else:
        p.write_text("[1, 2]")
    assert store.get(key) is None and not p.exists()
    assert store.get_or_compute(key, lambda: {"kissing": 240}) == {"kissing": 240}
    assert store.get(key) == {"kissing": 240}


def test_salt_separates_sources_and_off_switch(tmp_path, monkeypatch):
    a = ResultCache("t", ("lattiq.report",), root=tmp_path)
    b = ResultCache("t", ("lattiq.resultcache",), root=tmp_path)
    assert a.salt != b.salt and a.path({"x": 1}) != b.path({"x": 1})
    a.put({"x": 1}, 5)
    assert b.get({"x": 1}) is None and a.get({"x": 1}) == 5
    assert len(source_digest(("lattiq.lattices",))) == 64

    monkeypatch.setenv("LATTIQ_CACHE_DIR", "off")
    assert cache_root() is None and not ResultCache("t").enabled
    monkeypatch.setenv("LATTIQ_CACHE_DIR", str(tmp_path / "c"))
    assert cache_root().parent == tmp_path / "c"
    monkeypatch.delenv("LATTIQ_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root().parent == tmp_path / "xdg" / "lattiq"
    off = ResultCache("t", root=tmp_path, enabled=False)
    off.put({"x": 1}, 5)
    assert off.get({"x": 1}) is None


def test_report_reads_its_cache_and_recomputes_damage(tmp_path, monkeypatch):
    monkeypatch.setenv("LATTIQ_CACHE_DIR", str(tmp_path / "cache"))
    kw = dict(quick=True, progress=False, lattices=["d4"], codes=["e8", "fibonacci-50"],
              figures=False)  # fmt: skip
    first = run_report(tmp_path / "a", **kw)
    entries = sorted((tmp_path / "cache").rglob("*.json"))
    assert len(entries) == 3
    second = run_report(tmp_path / "b", **kw)
    uncached = run_report(tmp_path / "c", cache=False, **kw)
    for rep in (second, uncached):
        assert rep["lattices"] == first["lattices"] and rep["codes"] == first["codes"]
    # a corrupt entry is recomputed, and the report does not change
    entries[0].write_text("{not json")
    third = run_report(tmp_path / "d", **kw)
    assert third["codes"] == first["codes"] and third["lattices"] == first["lattices"]
    assert third["errors"] == [] and json.loads(entries[0].read_text())["value"]
