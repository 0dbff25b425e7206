"""Figures: each function returns a Figure, writes a PNG on request, leaves no global state."""

import subprocess
import sys
from fractions import Fraction as F

import numpy as np
import pytest

from lattiq.spherecodes import get_code, plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LEECH = {1: 1, F(1, 2): 4600, F(1, 4): 47104, 0: 93150, F(-1, 4): 47104, F(-1, 2): 4600, -1: 1}


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG_MAGIC


def _fib(n):
    i = np.arange(n)
    z = 1 - (2 * i + 1) / n
    r = np.sqrt(1 - z * z)
    ph = 2 * np.pi * i / ((1 + 5**0.5) / 2)
    return np.stack([r * np.cos(ph), r * np.sin(ph), z], axis=1)


def test_importing_plots_does_not_import_matplotlib():
    code = (
        "import sys, lattiq.spherecodes, lattiq.spherecodes.plots; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plots_use_no_pyplot_and_keep_the_backend():
    # (matplotlib.get_backend() itself may import pyplot, so read the raw rcParam)
    code = (
        "import matplotlib, sys; b = dict.__getitem__(matplotlib.rcParams, 'backend'); "
        "from lattiq.spherecodes import plots; import numpy as np; "
        "plots.plot_inner_product_histogram({1: 1, 0.5: 3, -1: 1}); "
        "plots.plot_sphere_points(np.eye(3)); "
        "assert 'matplotlib.pyplot' not in sys.modules; "
        "assert dict.__getitem__(matplotlib.rcParams, 'backend') == b"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_delta_min_plot_from_series(tmp_path):
    from matplotlib.figure import Figure

    series = {
        "fibonacci": [("fibonacci-32", 32, 0.55), ("fibonacci-100", 100, 0.31)],
        "random": [("random-3-32-s0", 32, 0.03)],
        "binary": [("bsq-3", 8, 2 / np.sqrt(3))],
        "lattice": [("z3-shell2", 12, 1.0)],
    }
    out = tmp_path / "sub" / "dmin.png"
    fig = plots.plot_delta_min_vs_n(series, dim=3, path=out)
    assert isinstance(fig, Figure) and _is_png(out)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["fibonacci", "random", "binary", "lattice", "upper bound"]
    # the bound curve lies above every plotted code (it is an upper bound)
    bound_line = ax.get_lines()[-1]
    xs, ys = bound_line.get_data()
    for fam in series.values():
        for _, n, dv in fam:
            assert dv <= np.interp(n, xs, ys) + 1e-9


def test_delta_min_point_labels_do_not_overlap():
    # the report's S^2 figure (its values): four labelled points crowd the top-left corner
    fib = [(8, 1.09), (12, 0.891), (32, 0.546), (100, 0.309), (300, 0.178), (1000, 0.0978),
           (3000, 0.0565), (10000, 0.0309), (30000, 0.0179), (100000, 0.00978)]
    rnd = [(8, 0.402), (12, 0.181), (32, 0.104), (100, 0.00271), (300, 0.00271),
           (1000, 0.000275), (3000, 0.000275), (10000, 8.28e-05), (30000, 7.05e-06)]
    series = {
        "fibonacci": [(f"fibonacci-{n}", n, d) for n, d in fib],
        "random": [(f"random-3-{n}-s0", n, d) for n, d in rnd],
        "binary": [("bsq-3", 8, 2 / np.sqrt(3))],
        "lattice": [("z3-shell1", 6, 2**0.5), ("z3-shell2", 12, 1.0), ("z3-shell5", 24, 0.632)],
    }
    fig = plots.plot_delta_min_vs_n(series, dim=3)
    fig.draw_without_rendering()
    ax = fig.axes[0]
    r = fig.canvas.get_renderer()
    texts = {a.get_text(): a for a in ax.texts}
    assert set(texts) == {"bsq-3", "z3-shell1", "z3-shell2", "z3-shell5"}
    boxes = {k: _text_box(a, r) for k, a in texts.items()}
    for a in boxes:
        for b in boxes:
            assert a == b or not boxes[a].overlaps(boxes[b]), (a, b)
    frame = ax.get_window_extent(r)
    legend = ax.get_legend().get_window_extent(r)
    for k, t in boxes.items():
        assert frame.contains(t.x0, t.y0) and frame.contains(t.x1, t.y1), k
        assert not t.overlaps(legend), k


def _text_box(ann, renderer):
    """The text's own box (an annotation's extent includes its leader line)."""
    from matplotlib.text import Text

    return Text.get_window_extent(ann, renderer)


def test_delta_min_series_from_registry():
    fams = {"fibonacci": ["fibonacci-100", "fibonacci-12"], "lattice": ["z3-shell2"]}
    s = plots.delta_min_series(3, families=fams)
    assert [p[1] for p in s["fibonacci"]] == [12, 100]  # sorted by N
    assert s["lattice"] == [("z3-shell2", 12, pytest.approx(1.0))]
    for fam in s.values():
        for name, n, dv in fam:
            assert (n, dv) == (get_code(name).size, pytest.approx(get_code(name).min_distance()))


def test_delta_min_series_rejects_wrong_dimension_and_skips_unknown():
    msgs = []
    s = plots.delta_min_series(3, families={"x": ["no-such-code"]}, progress=msgs.append)
    assert s == {"x": []} and any("skipped no-such-code" in m for m in msgs)
    with pytest.raises(ValueError, match="dimension 8"):
        plots.delta_min_series(3, families={"lattice": ["e8"]})


def test_inner_product_histogram_kinds(tmp_path):
    fig = plots.plot_inner_product_histogram(LEECH, path=tmp_path / "a.png", title="leech")
    assert _is_png(tmp_path / "a.png") and fig.axes[0].get_title() == "leech"
    # a code: its (exact) distribution
    fig = plots.plot_inner_product_histogram(get_code("e8"))
    assert "e8" in fig.axes[0].get_title()
    # a point set: histogram of its pairs
    fig = plots.plot_inner_product_histogram(_fib(300), log=False, bins=20)
    assert len(fig.axes[0].patches) == 20


def test_sphere_view(tmp_path):
    X = _fib(200)
    fig = plots.plot_sphere_points(X, values=np.arange(200), path=tmp_path / "s.png")
    assert _is_png(tmp_path / "s.png")
    assert len(fig.axes) == 2  # the 3-D axes and a colour bar
    fig = plots.plot_sphere_points(get_code("fibonacci-100"), max_points=50, sphere=False)
    assert "fibonacci-100" in fig.axes[0].get_title()


def test_draw_into_given_axes():
    fig, ax = plots.new_figure()
    out = plots.plot_inner_product_histogram({1: 1, 0: 4, -1: 1}, ax=ax)
    assert out is fig


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: plots.plot_sphere_points(np.ones((4, 4))), ValueError, r"\(N, 3\)"),
        (lambda: plots.plot_sphere_points(np.full((2, 3), np.nan)), ValueError, "NaN"),
        (lambda: plots.plot_sphere_points(np.eye(3), values=[1, 2]), ValueError, "values"),
        (lambda: plots.plot_delta_min_vs_n(), ValueError, "series or dim"),
        (lambda: plots.plot_delta_min_vs_n([1, 2]), TypeError, "mapping"),
        (lambda: plots.plot_delta_min_vs_n({"a": [("x", 0, 1.0)]}), ValueError, "bad point"),
        (lambda: plots.plot_inner_product_histogram(np.ones((1, 3))), ValueError, "N >= 2"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
