"""Configs: dataclasses <-> YAML / JSON files, overrides, differences."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from lattiq.runtime.config import (
    config_diff,
    config_from_dict,
    config_to_dict,
    load_config,
    parse_overrides,
    save_config,
)


@dataclass
class Inner:
    width: int = 8
    rate: float = 0.5
    name: str = "a"
    sides: list[int] = field(default_factory=lambda: [1, 2])
    path: str | None = None


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)
    steps: int = 10
    flag: bool = False


# --- config -------------------------------------------------------------------------------


def test_config_round_trip_yaml_and_json(tmp_path):
    cfg = Outer(inner=Inner(width=3, sides=[4]), steps=7, flag=True)
    d = config_to_dict(cfg)
    assert d == {
        "inner": {"width": 3, "rate": 0.5, "name": "a", "sides": [4], "path": None},
        "steps": 7,
        "flag": True,
    }
    assert config_from_dict(Outer, d) == cfg
    save_config(cfg, tmp_path / "c.json")
    assert load_config(Outer(), tmp_path / "c.json") == cfg
    (tmp_path / "c.yaml").write_text("inner:\n  width: 5\nsteps: 3\n")
    got = load_config(Outer(), tmp_path / "c.yaml", ["inner.rate=2", "inner.path=/x"])
    assert got == Outer(inner=Inner(width=5, rate=2.0, path="/x"), steps=3)


def test_overrides_parse_yaml_values():
    assert parse_overrides(["a.b=1", "c=[1, 2]", "d=true", "e=hi", "f=1e-3"]) == {
        "a": {"b": 1},
        "c": [1, 2],
        "d": True,
        "e": "hi",
        "f": "1e-3",  # YAML 1.1; float fields accept it (below)
    }
    assert load_config(Outer(), None, ["inner.rate=1e-3"]).inner.rate == 1e-3


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("inner.widht=3", "unknown config key 'inner.widht'"),
        ("nope=1", "unknown config key 'nope'"),
        ("steps=1.5", "expected an integer"),
        ("flag=3", "true/false"),
        ("inner=3", "is a section"),
        ("inner.sides=4", "expected a list"),
        ("steps", "key=value"),
    ],
)
def test_bad_overrides_are_refused(override, match):
    with pytest.raises(ValueError, match=match):
        load_config(Outer(), None, [override])


def test_bad_config_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(Outer(), tmp_path / "missing.yaml")
    (tmp_path / "c.txt").write_text("steps: 1")
    with pytest.raises(ValueError, match="yaml"):
        load_config(Outer(), tmp_path / "c.txt")


def test_config_diff_lists_every_difference():
    a = Outer()
    b = Outer(inner=Inner(width=9, name="b"), flag=True)
    assert config_diff(a, b) == [
        "flag: False -> True",
        "inner.name: 'a' -> 'b'",
        "inner.width: 8 -> 9",
    ]
    assert config_diff(a, a) == []
    assert config_diff({"x": 1}, {"y": 1}) == ["x: 1 -> <absent>", "y: <absent> -> 1"]


# --- schedules ----------------------------------------------------------------------------
