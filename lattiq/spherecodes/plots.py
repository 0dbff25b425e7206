"""Figures for spherical codes: δ_min versus N, inner-product histograms, 3-D views.

matplotlib is imported inside the functions, never at import of :mod:`lattiq.spherecodes`,
and only through its object-oriented API: every figure is a
:class:`matplotlib.figure.Figure` with its own Agg canvas, so no pyplot state, no global
backend switch and no display are involved. Each function returns the Figure and, given
``path``, also writes it there in the format of its suffix (PNG, JPEG, SVG, PDF, ...; see
:func:`figure_format`), after checking the path before any work.

Data and drawing are apart: :func:`delta_min_series` computes the points of the δ_min
versus N figure through the code registry (``get_code(name).min_distance()``), and
:func:`plot_delta_min_vs_n` draws any such series, with the upper bound of
:func:`lattiq.spherecodes.bounds.delta_min_upper_bound` for reference (the kind of figure
of Fig. 2 in "Spherical Leech Quantization", arXiv 2512.14697).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .bounds import delta_min_upper_bound

__all__ = [
    "DeltaMinPoint",
    "delta_min_series",
    "figure_format",
    "figure_formats",
    "new_figure",
    "plot_delta_min_vs_n",
    "plot_inner_product_histogram",
    "plot_sphere_points",
]

#: Largest dimension :func:`delta_min_series` accepts.
MAX_PLOT_DIM = 1024
#: One point of a δ_min-versus-N series: (code name, N, δ_min).
DeltaMinPoint = tuple[str, int, float]

_FAMILY_STYLE = {
    "fibonacci": dict(marker="o", color="tab:blue"),
    "random": dict(marker="x", color="tab:gray"),
    "binary": dict(marker="s", color="tab:orange"),
    "lattice": dict(marker="*", color="tab:red", markersize=11),
}


def new_figure(figsize=(6.4, 4.8), subplot_kw=None):
    """A Figure on its own Agg canvas and one Axes (no pyplot, no global backend).

    .. math:: \\text{Figure} \\to \\text{FigureCanvasAgg} \\to \\text{PNG}
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1, **(subplot_kw or {}))
    return fig, ax


def figure_formats() -> dict[str, str]:
    """``{suffix: description}`` of the image formats figures can be written in (those of
    matplotlib's Agg canvas: png, jpg, svg, pdf, ...)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return dict(FigureCanvasAgg.get_supported_filetypes())


def figure_format(path) -> str:
    """The image format of a figure path, from its suffix (``"png"`` for no suffix).

    Raises ``ValueError`` for a suffix no canvas writes (so ``-o x.jpg`` writes a real
    JPEG, and ``-o x.jpq`` is refused instead of holding PNG bytes under a wrong name),
    or for a path that is a folder or lies in a folder that cannot be created or written.
    """
    from lattiq._outputs import check_output_file

    p = check_output_file(path, what="figure file")
    suffix = os.path.splitext(os.path.basename(p))[1].lower().lstrip(".")
    if not suffix:
        return "png"
    formats = figure_formats()
    if suffix not in formats:
        raise ValueError(f"figure file {p!r}: unsupported image format {suffix!r}; use one of "
                         f"{', '.join(sorted(formats))}")
    return suffix


def _finish(fig, path):
    if path is not None:
        from lattiq._outputs import writing

        fmt = figure_format(path)
        path = os.fspath(path)
        with writing(path, "figure"):
            d = os.path.dirname(path)
            if d:
                os.makedirs(d, exist_ok=True)
            fig.savefig(path, dpi=120, format=fmt)
    return fig


def _axes(ax, figsize, subplot_kw=None):
    if ax is None:
        return new_figure(figsize, subplot_kw)
    return ax.figure, ax


# ------------------------------------------------------------------ δ_min versus N


def _default_families(dim: int, quick: bool) -> dict[str, list[str]]:
    """Code names per family for :func:`delta_min_series`."""
    if dim == 3:
        fib = [8, 12, 32, 100, 300, 1000, 3000] + ([] if quick else [10_000, 30_000, 100_000])
        rnd = [8, 12, 32, 100, 300, 1000] + ([] if quick else [3000, 10_000, 30_000])
        return {
            "fibonacci": [f"fibonacci-{n}" for n in fib],
            "random": [f"random-3-{n}-s0" for n in rnd],
            "binary": ["bsq-3"],
            "lattice": ["z3-shell1", "z3-shell2", "z3-shell5"],
        }
    if dim == 24:
        rnd = [64, 256, 1024] + ([] if quick else [4096, 16_384])
        fib = [64, 256, 1024] + ([] if quick else [4096, 16_384])
        return {
            "fibonacci": [f"fibonacci-24-{n}" for n in fib],
            "random": [f"random-24-{n}-s0" for n in rnd],
            "binary": ["bsq-24"],
            "lattice": ["z24-shell1", "z24-shell2", "leech"],
        }
    # at most 16,384 points, so the all-pairs δ_min stays within seconds
    rnd = [n for n in (2 * dim, 8 * dim, 64 * dim, 512 * dim) if n <= 16_384]
    return {
        "fibonacci": [f"fibonacci-{dim}-{n}" for n in rnd],
        "random": [f"random-{dim}-{n}-s0" for n in rnd],
        "binary": [f"bsq-{dim}"] if dim <= 24 else [],
        "lattice": [f"z{dim}-shell1", f"z{dim}-shell2"],
    }


def delta_min_series(
    dim: int,
    families: Mapping[str, Sequence[str]] | None = None,
    quick: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, list[DeltaMinPoint]]:
    """δ_min of registered codes on :math:`S^{dim-1}`, grouped by family.

    .. math:: \\delta_{\\min}(C) = \\min_{c \\ne c' \\in C} \\lVert c - c' \\rVert

    Parameters
    ----------
    dim : int
        Ambient dimension (3 and 24 have curated defaults: Fibonacci, random, binary and
        lattice-shell codes; other dimensions get a generic choice).
    families : mapping, optional
        ``{family: [code name, ...]}``; names are anything
        :func:`lattiq.spherecodes.get_code` accepts. Defaults per ``dim`` (and ``quick``).
    quick : bool
        Smaller default codes (for tests and ``lattiq report --quick``).
    progress : callable, optional
        Called with a short message before each code.

    Returns
    -------
    dict
        ``{family: [(name, N, δ_min), ...]}`` sorted by N; a code that cannot be built is
        skipped with a message to ``progress``.
    """
    from . import get_code

    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not \
            2 <= dim <= MAX_PLOT_DIM:
        raise ValueError(f"dim must be an integer from 2 to {MAX_PLOT_DIM} (codes on "
                         f"S^(dim-1)), got {dim!r}")
    dim = int(dim)
    fams = dict(families) if families is not None else _default_families(dim, quick)
    out: dict[str, list[DeltaMinPoint]] = {}
    for fam, names in fams.items():
        pts = []
        for name in names:
            if progress:
                progress(f"delta_min {name}")
            try:
                C = get_code(name)
            except (ValueError, KeyError) as err:
                if progress:
                    progress(f"skipped {name}: {err}")
                continue
            if C.dim != dim:
                raise ValueError(f"code {name!r} lives in dimension {C.dim}, not {dim}")
            pts.append((name, int(C.size), float(C.min_distance())))
        out[fam] = sorted(pts, key=lambda p: p[1])
    return out


def plot_delta_min_vs_n(
    series: Mapping[str, Sequence[DeltaMinPoint]] | None = None,
    dim: int | None = None,
    *,
    bound: bool = True,
    ax=None,
    path=None,
    title: str | None = None,
    quick: bool = False,
):
    """Minimum chord distance δ_min against the number of codewords N (log scale).

    .. math:: \\delta_{\\min}(N) \\le \\sqrt{2 - 2 s^*(d, N)}

    Each family is one marker style; the dashed line is the best upper bound of
    :func:`~lattiq.spherecodes.bounds.delta_min_upper_bound` (Levenshtein, Rankin and, on
    :math:`S^2`, Fejes Tóth), so the vertical gap to it is how far a code is from optimal.

    Parameters
    ----------
    series : mapping, optional
        ``{family: [(name, N, δ_min), ...]}`` as from :func:`delta_min_series`; computed
        for ``dim`` when omitted.
    dim : int, optional
        Ambient dimension; required to draw the bound or to compute the series.
    bound : bool
        Draw the upper bound curve.
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new Figure.
    path : str or os.PathLike, optional
        Also save the Figure here, in the format its suffix names (``.png``, ``.jpg``,
        ``.svg``, ``.pdf``, ...: :func:`figure_formats`; PNG without a suffix). A bad path
        or suffix is refused with ``ValueError`` before anything is computed.
    title : str, optional
    quick : bool
        Passed to :func:`delta_min_series` when ``series`` is omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if path is not None:
        figure_format(path)  # refuse a bad path before any work
    if series is None:
        if dim is None:
            raise ValueError("give either series or dim (to compute the default series)")
        series = delta_min_series(dim, quick=quick)
    if not isinstance(series, Mapping):
        raise TypeError("series must be a mapping {family: [(name, N, delta_min), ...]}")
    fig, ax = _axes(ax, (6.4, 4.6))
    n_all = []
    to_label: list[tuple[str, float, float]] = []
    for fam, pts in series.items():
        pts = list(pts)
        if not pts:
            continue
        for p in pts:
            if len(p) != 3 or not (p[1] >= 1 and 0 <= p[2] <= 2):
                raise ValueError(f"bad point {p!r} in family {fam!r}: need (name, N >= 1, 0..2)")
        ns = np.array([p[1] for p in pts], dtype=float)
        ds = np.array([p[2] for p in pts], dtype=float)
        n_all.extend(ns.tolist())
        style = dict(_FAMILY_STYLE.get(fam, dict(marker="d")))
        ls = "-" if len(pts) > 2 and fam in ("fibonacci", "random") else "none"
        ax.plot(ns, ds, linestyle=ls, label=fam, **style)
        if len(pts) <= 4 or fam in ("lattice", "binary"):
            to_label += [(name, float(n), float(dv)) for name, n, dv in pts]
    if bound and dim is not None and n_all:
        lo, hi = max(2, int(min(n_all))), int(max(n_all))
        grid = np.unique(np.geomspace(lo, max(hi, lo + 1), 120).astype(np.int64))
        bd = [delta_min_upper_bound(int(dim), int(n)) for n in grid]
        ax.plot(grid, bd, "k--", lw=1, label="upper bound")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (number of codewords)")
    ax.set_ylabel(r"$\delta_{\min}$ (chord)")
    if title is None and dim is not None:
        title = rf"$\delta_{{\min}}$ versus $N$ on $S^{{{int(dim) - 1}}}$"
    if title:
        ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if to_label:  # head room above the top points, for their labels
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi * 1.8)
    legend = ax.legend(fontsize=8)
    if to_label:
        _place_labels(ax, to_label, legend)
    return _finish(fig, path)


#: Label offsets tried next to a point, in typographic points.
_NEAR = ((6, 4), (6, -10), (-6, 4), (-6, -10), (0, 9), (0, -15), (9, -3), (-9, -3))


def _place_labels(ax, labels: Sequence[tuple[str, float, float]], legend=None) -> None:
    """Label points without overlaps.

    Each label goes next to its point where some position there overlaps no other label,
    marker, line, the legend or the axes' edge, and is nearer to its own point than to any
    other marker. The labels that find no such place (a crowded corner) go in a row along
    the top of the axes, in the order of their points, each tied to its point by a leader
    line, so that the lines do not cross.
    """
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.draw_without_rendering()  # settle the layout, so that display coordinates hold
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    px = fig.dpi / 72.0
    marks, trace = [], []  # markers (centre, radius), and points along the drawn lines
    for line in ax.get_lines():
        xy = ax.transData.transform(line.get_xydata())
        if line.get_marker() not in (None, "None", "", " "):
            r = max(4.0, 0.5 * line.get_markersize() * px)
            marks += [(x, y, r) for x, y in xy]
        if line.get_linestyle() not in ("None", "none", "", " "):
            for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:], strict=True):
                k = max(1, int(np.hypot(x1 - x0, y1 - y0) / 3))
                trace += [Bbox.from_bounds(x0 + (x1 - x0) * t - 1, y0 + (y1 - y0) * t - 1, 2, 2)
                          for t in np.linspace(0, 1, k + 1)]
    taken = [legend.get_window_extent(renderer)] if legend is not None else []

    def overlap(a, b) -> float:
        w = min(a.x1, b.x1) - max(a.x0, b.x0)
        h = min(a.y1, b.y1) - max(a.y0, b.y0)
        return w * h if w > 0 and h > 0 else 0.0

    def gap(box, x, y) -> float:  # distance from a point to a box
        return float(np.hypot(max(box.x0 - x, 0, x - box.x1), max(box.y0 - y, 0, y - box.y1)))

    def annotate(name, n, dv, dx, dy, ha, va, leader=False):
        return ax.annotate(
            name, (n, dv), textcoords="offset points", xytext=(dx, dy), fontsize=7, ha=ha,
            va=va, arrowprops=dict(arrowstyle="-", lw=0.6, color="0.35", shrinkA=1, shrinkB=5)
            if leader else None,
        )  # fmt: skip

    crowded = []
    for name, n, dv in sorted(labels, key=lambda t: (t[1], -t[2])):
        x0, y0 = ax.transData.transform((n, dv))
        # markers other than the point's own (or one drawn on top of it)
        others = [(x, y, r) for x, y, r in marks if math.hypot(x - x0, y - y0) > r]
        blocks = [Bbox.from_bounds(x - r, y - r, 2 * r, 2 * r) for x, y, r in others]
        placed = False
        for dx, dy in _NEAR:
            ha = "left" if dx > 0 else "right" if dx < 0 else "center"
            va = "bottom" if dy >= 0 else "top"
            ann = annotate(name, n, dv, dx, dy, ha, va)
            box = ann.get_window_extent(renderer).padded(1.5)
            own = gap(box, x0, y0)
            clash = (sum(overlap(box, b) for b in taken) + sum(overlap(box, b) for b in blocks)
                     + sum(overlap(box, b) for b in trace)
                     + box.width * box.height - overlap(box, frame))  # fmt: skip
            if clash < 8 and all(gap(box, x, y) - r > own + 2 for x, y, r in others):
                taken.append(box)
                placed = True
                break
            ann.remove()
        if not placed:
            crowded.append((name, n, dv, x0, y0))
    # the rest: a row along the top, left to right in the order of the points
    right = frame.x0 + 4
    for name, n, dv, x0, y0 in crowded:
        ann = annotate(name, n, dv, 0, 0, "left", "top")
        w, h = (lambda b: (b.width, b.height))(ann.get_window_extent(renderer))
        ann.remove()
        x = max(x0 - w / 2, right)
        y = frame.y1 - 4
        for _ in range(6):  # step down below the legend or earlier labels if needed
            box = Bbox.from_bounds(x, y - h, w, h).padded(2)
            if not any(overlap(box, b) for b in taken):
                break
            y -= h + 3
        annotate(name, n, dv, (x - x0) / px, (y - y0) / px, "left", "top", leader=True)
        taken.append(box)
        right = x + w + 8


# ------------------------------------------------------------- inner products


def _distribution_of(source, max_pairs: int = 2_000_000, seed: int = 0):
    """``(values, counts, exact)`` from a code, a mapping or an (N, d) array."""
    if isinstance(source, Mapping):
        items = sorted((float(t), float(c)) for t, c in source.items())
        return np.array([t for t, _ in items]), np.array([c for _, c in items]), True
    if hasattr(source, "inner_product_distribution") and (
        getattr(source, "distance_invariant", False) or getattr(source, "exact_form", None)
        or getattr(source, "size", np.inf) <= 2000
    ):
        return _distribution_of(source.inner_product_distribution())
    X = np.asarray(getattr(source, "points", source), dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"points must have shape (N >= 2, d), got {X.shape}")
    n = X.shape[0]
    rng = np.random.default_rng(seed)
    if n * (n - 1) // 2 <= max_pairs:
        G = X @ X.T
        vals = G[np.triu_indices(n, 1)]
    else:
        i = rng.integers(0, n, max_pairs)
        j = rng.integers(0, n - 1, max_pairs)
        j = j + (j >= i)
        vals = np.einsum("ij,ij->i", X[i], X[j])
    return np.clip(vals, -1, 1), None, False


def plot_inner_product_histogram(
    source, *, ax=None, path=None, title: str | None = None, log: bool = True, bins: int = 100
):
    """Distribution of inner products between codewords.

    .. math:: n(t) = \\#\\{ j : \\langle c_i, c_j \\rangle = t \\}

    A distance-invariant code (or a mapping ``{t: count}``) is drawn as exact spikes with
    their counts; a point set as a histogram over its distinct pairs (sampled beyond two
    million pairs).

    Parameters
    ----------
    source : SphericalCode, mapping or (N, d) array
        A code (its ``inner_product_distribution()``), ``{inner product: count}``, or
        points.
    ax, path, title
        As in :func:`plot_delta_min_vs_n`.
    log : bool
        Logarithmic count axis.
    bins : int
        Histogram bins for point sets.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if path is not None:
        figure_format(path)  # refuse a bad path before any work
    vals, counts, exact = _distribution_of(source)
    fig, ax = _axes(ax, (6.4, 4.0))
    if exact:
        if vals.size == 0:
            raise ValueError("the distribution is empty")
        if vals.size <= 64:
            ax.vlines(vals, 0 if not log else 0.8, counts, color="tab:blue", lw=2)
            ax.plot(vals, counts, "o", color="tab:blue")
            for t, c in zip(vals, counts, strict=True):
                ax.annotate(
                    f"{int(c):,}",
                    (t, c),
                    textcoords="offset points",
                    xytext=(0, 5),
                    ha="center",
                    fontsize=7,
                )
        else:
            ax.hist(vals, bins=bins, weights=counts, color="tab:blue")
    else:
        ax.hist(vals, bins=bins, color="tab:gray")
    if log:
        ax.set_yscale("log")
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel(r"inner product $\langle c_i, c_j\rangle$")
    ax.set_ylabel("count")
    if title is None:
        title = getattr(source, "name", None)
        title = f"inner products: {title}" if title else "inner products"
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    return _finish(fig, path)


# ------------------------------------------------------------------- 3-D view


def plot_sphere_points(
    source,
    *,
    values=None,
    ax=None,
    path=None,
    title: str | None = None,
    max_points: int = 20_000,
    sphere: bool = True,
    elev: float = 20.0,
    azim: float = 35.0,
):
    """3-D view of a code on :math:`S^2`.

    .. math:: \\{ c_i \\} \\subset S^2 = \\{ x \\in \\mathbb R^3 : \\lVert x \\rVert = 1 \\}

    Parameters
    ----------
    source : SphericalCode or (N, 3) array
        Points on the unit sphere (a code's ``points``).
    values : (N,) array_like, optional
        A value per point for the colour (e.g. a usage histogram).
    ax : a 3-D matplotlib Axes, optional
    path, title
        As in :func:`plot_delta_min_vs_n`.
    max_points : int
        Draw at most this many points (an even subsample beyond).
    sphere : bool
        Draw a faint wireframe of the unit sphere.
    elev, azim : float
        Viewing angles in degrees.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if path is not None:
        figure_format(path)  # refuse a bad path before any work
    X = np.asarray(getattr(source, "points", source), dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 3:
        raise ValueError(f"a 3-D view needs points of shape (N, 3) on S^2, got {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("no points to draw")
    if not np.all(np.isfinite(X)):
        raise ValueError("points contain NaN or Inf")
    c = None
    if values is not None:
        c = np.asarray(values, dtype=np.float64).reshape(-1)
        if c.size != X.shape[0]:
            raise ValueError(f"values has {c.size} entries for {X.shape[0]} points")
    if X.shape[0] > max_points:
        keep = np.linspace(0, X.shape[0] - 1, max_points).astype(np.int64)
        X = X[keep]
        c = c[keep] if c is not None else None
    fig, ax = _axes(ax, (5.5, 5.5), subplot_kw=dict(projection="3d"))
    if sphere:
        u = np.linspace(0, 2 * np.pi, 37)
        v = np.linspace(0, np.pi, 19)
        ax.plot_wireframe(
            np.outer(np.cos(u), np.sin(v)),
            np.outer(np.sin(u), np.sin(v)),
            np.outer(np.ones_like(u), np.cos(v)),
            color="0.8",
            linewidth=0.4,
        )
    size = max(2.0, 40.0 / math.sqrt(max(X.shape[0] / 50.0, 1.0)))
    sc = ax.scatter(
        X[:, 0],
        X[:, 1],
        X[:, 2],
        c=c if c is not None else "tab:blue",
        s=size,
        depthshade=True,
        cmap="viridis" if c is not None else None,
    )
    if c is not None:
        fig.colorbar(sc, ax=ax, shrink=0.6)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=elev, azim=azim)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_zlim(-1, 1)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_ticks([-1, 0, 1])
    if title is None:
        name = getattr(source, "name", None)
        title = f"{name} ({X.shape[0]} points)" if name else f"{X.shape[0]} points on $S^2$"
    ax.set_title(title)
    return _finish(fig, path)
