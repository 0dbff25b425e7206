"""Shared fixtures for the quantizer tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch


@pytest.fixture(scope="session")
def leech_points() -> torch.Tensor:
    from lattiq.lattices.leech import leech_shell1

    return torch.as_tensor(leech_shell1().astype(np.float64)) / math.sqrt(32.0)


@pytest.fixture(scope="session")
def leech_q():
    from lattiq.quantizers import SphericalQuantizer

    return SphericalQuantizer("leech")
