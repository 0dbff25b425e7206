"""The quantizer registry: one name per kind, and every entry round-trips through its config
in either spelling (the class names that configs used before the registry's names)."""

from __future__ import annotations

import json

import pytest
import torch

from lattiq.quantizers import (
    BSQQuantizer,
    IdentityQuantizer,
    LFQQuantizer,
    MultiScaleQuantizer,
    RandomProjectionQuantizer,
    SphericalQuantizer,
    list_quantizers,
    quantizer_class,
    quantizer_from_config,
    register_quantizer,
)
from lattiq.quantizers.registry import canonical_config, legacy_config

#: one small instance of every registered kind, and the class-name spelling of old configs
EXAMPLES = {
    "spherical": (lambda: SphericalQuantizer("e8"), "SphericalQuantizer"),
    "identity": (lambda: IdentityQuantizer("d4"), "IdentityQuantizer"),
    "bsq": (lambda: BSQQuantizer(6, entropy_weight=0.1), "BSQQuantizer"),
    "lfq": (lambda: LFQQuantizer(4), "LFQQuantizer"),
    "random-projection": (lambda: RandomProjectionQuantizer((8, 300), seed=3),
                          "RandomProjectionQuantizer"),
    "multiscale": (lambda: MultiScaleQuantizer(SphericalQuantizer("d4"), schedule=[1, 2, 4]),
                   "MultiScaleQuantizer"),
}


def test_every_entry_has_an_example():
    assert set(list_quantizers(wrappers=True)) == set(EXAMPLES)
    assert list_quantizers() == sorted(set(EXAMPLES) - {"multiscale"})


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_entry_round_trips_in_both_spellings(name):
    make, legacy = EXAMPLES[name]
    q = make()
    assert q.kind == name and quantizer_class(name) is type(q)
    cfg = json.loads(json.dumps(q.config()))
    assert cfg["type"] == name
    old = legacy_config(cfg)
    assert old["type"] == legacy and canonical_config(old) == cfg
    assert quantizer_class(legacy) is type(q)
    for c in (cfg, old):
        q2 = quantizer_from_config(c)
        assert type(q2) is type(q) and q2.config() == q.config()
    z = torch.randn(2, 4, 4, q.dim, generator=torch.Generator().manual_seed(0))
    q.eval(), q2.eval()
    torch.testing.assert_close(q2(z).codes, q(z).codes)


def test_unknown_and_duplicate_names_are_refused():
    with pytest.raises(ValueError, match="unknown quantizer type 'nope'; known: .*spherical"):
        quantizer_from_config({"type": "nope"})
    with pytest.raises(ValueError, match="'type' key"):
        quantizer_from_config({"code": "e8"})
    with pytest.raises(ValueError, match="registered already"):
        register_quantizer("spherical")(type("Another", (), {}))
    with pytest.raises(ValueError, match="registered already"):
        register_quantizer("SphericalQuantizer")(type("Another", (), {}))
