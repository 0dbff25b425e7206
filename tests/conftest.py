"""The random state of every test: seeded, and reported when the test fails.

Each test starts with python's ``random``, numpy's legacy global generator and torch's
generator seeded from one number, fresh for every test (so inputs stay fresh from run to
run) unless ``LATTIQ_TEST_SEED`` fixes it. A failing test's report shows the seed, and
``LATTIQ_TEST_SEED=N pytest path::test`` replays it. A test that wants a generator of its
own takes the ``rng_seed`` fixture (``np.random.default_rng(rng_seed)``); one that seeds
itself (``torch.manual_seed(0)``) is unaffected.
"""

from __future__ import annotations

import os
import random
import secrets

import numpy as np
import pytest

try:
    import torch
except ImportError:  # the math side is tested without torch too
    torch = None

SEED_ENV = "LATTIQ_TEST_SEED"
_SEED = pytest.StashKey[int]()


@pytest.fixture(autouse=True)
def rng_seed(request) -> int:
    """The seed this test's random state starts from."""
    fixed = os.environ.get(SEED_ENV)
    seed = int(fixed) if fixed else secrets.randbits(32)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the legacy global state some tests draw from
    if torch is not None:
        torch.manual_seed(seed)
    request.node.stash[_SEED] = seed
    return seed


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and _SEED in item.stash:
        report.sections.append(("random seed", f"{SEED_ENV}={item.stash[_SEED]} replays this "
                                "test's random state"))
    return report
