"""``lattiq report``: one table of every built-in lattice and spherical code, with bounds.

:func:`run_report` measures each built-in lattice (determinant, minimal norm, kissing number,
densities, Hermite constant, theta series, covering radius, a Monte Carlo normalized second
moment with its standard error) and each built-in spherical code (size, rate, δ_min, minimum
angle, maximal inner product, design strength), puts them beside the bounds of
:mod:`lattiq.spherecodes.bounds` and the gap to them, draws the figures of
:mod:`lattiq.spherecodes.plots`, and writes

* ``report.md``: the tables and figures as markdown,
* ``report.json``: everything, machine-readable,
* ``figures/*.png``,

to the output folder. Only the installed package is needed (no data, no network).

Gaps. For a code of ``N`` points on :math:`S^{d-1}` with maximal inner product ``s``:

.. math::
    \\text{size gap} = \\frac{N}{L(d, s)}, \\qquad
    \\text{distance gap} = \\frac{\\delta_{\\min}}{\\delta^*(d, N)},

where ``L`` is Levenshtein's bound and :math:`\\delta^*` the best upper bound on the
minimum distance of ``N`` points (:func:`~lattiq.spherecodes.bounds.delta_min_upper_bound`);
both are at most 1, and 1 means the code meets the bound (Leech, E8, the (23, 4600) and
(22, 891) codes). For a lattice the kissing configuration is a code with ``s = 1/2``, so its
kissing number is compared with :math:`L(d, 1/2)` and the Delsarte LP bound.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback
from contextlib import contextmanager
from fractions import Fraction
from importlib.metadata import version

import numpy as np
import sympy

import lattiq
from lattiq._outputs import check_output_dir, writing
from lattiq.lattices import get_lattice, list_lattices
from lattiq.lattices.cli import lattice_stats
from lattiq.lattices.measure import known_normalized_second_moment
from lattiq.progress import progress
from lattiq.resultcache import ResultCache
from lattiq.spherecodes import bounds, get_code, list_codes, plots
from lattiq.spherecodes.design import design_strength, design_strength_from_distribution
from lattiq.spherecodes.usage import bits_per_codeword

__all__ = ["REPORT_CODES", "REPORT_LATTICES", "run_report", "summary_text"]

#: Lattices in the report (besides the registry's built-ins).
REPORT_LATTICES = ("leech", "e8", "d4", "a2", "z1", "z8", "z24", "d8", "a8")
#: Spherical codes in the report (besides the registry's concrete built-ins).
REPORT_CODES = (
    "leech",
    "leech-4600",
    "leech-891",
    "e8",
    "d4",
    "bsq-8",
    "bsq-16",
    "bsq-24",
    "fibonacci-1000",
    "fibonacci-24-4096",
    "random-3-1000-s0",
    "random-24-4096-s0",
)
_QUICK_CODES = (
    "leech",
    "leech-4600",
    "leech-891",
    "e8",
    "d4",
    "bsq-8",
    "fibonacci-500",
    "random-24-1024-s0",
)
_QUICK_LATTICES = ("leech", "e8", "d4", "a2", "z8")
#: Largest Levenshtein bound for which the report also solves the Delsarte LP.
_LP_MAX_BOUND = 1e8
#: Largest code for which the report runs the generic design-strength computation.
_GENERIC_DESIGN_MAX = 20_000
#: What the report's numbers depend on: a change to any of these sources starts a new cache.
_CACHE_DEPENDS_ON = ("lattiq.lattices", "lattiq.spherecodes", "lattiq.report")


# --------------------------------------------------------------------------- progress


class _Progress:
    """The report's progress on stderr: a bar over its steps (count, ETA) on a terminal,
    one line per step otherwise, each slow step with its time (:mod:`lattiq.progress`)."""

    def __init__(self, enabled: bool, total: int = 0, stream=None):
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self.bar = progress(total, desc="report", unit="steps", enabled=enabled,
                            stream=stream or sys.stderr)  # fmt: skip

    def note(self, msg: str) -> None:
        if self.enabled:
            self.bar.write(f"[{time.perf_counter() - self.t0:6.1f}s] {msg}")

    def detail(self, msg: str) -> None:
        """A sub-step: the bar's label on a terminal, a line in a log."""
        if self.bar.mode == "bar":
            self.bar.set_description(msg.strip())
        else:
            self.note(msg)

    @contextmanager
    def step(self, label: str):
        t = time.perf_counter()
        if self.bar.mode == "bar":
            self.bar.set_description(label)
        else:
            self.note(f"{label} ...")
        try:
            yield
        finally:
            dt = time.perf_counter() - t
            self.bar.update(1)
            if dt >= 0.5:
                self.note(f"{label}: {dt:.1f}s")

    def close(self) -> None:
        if self.bar.mode == "bar":
            self.bar.set_description("report")
        self.bar.close()


# ---------------------------------------------------------------------------- helpers


def _plain(v):
    """JSON-friendly version of numbers from numpy, sympy and fractions."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, Fraction):
        return float(v)
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(x) for x in v]
    if isinstance(v, sympy.Basic):
        return int(v) if v.is_Integer else float(v)
    return str(v)


def _fmt(v, digits: int = 6) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "∞" if v > 0 else "–"
        if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
            return f"{v:.{digits - 2}e}"
        return f"{v:.{digits}g}"
    return str(v)


def _key(t) -> str:
    """Display form of an inner product: exact fractions stay exact, -0.0 becomes 0."""
    if isinstance(t, (int, np.integer, Fraction)):
        return str(Fraction(t))
    s = str(t)
    if "/" in s or s.lstrip("-").isdigit():
        return s  # sympy Rational or integer
    f = float(t) + 0.0
    fr = Fraction(f).limit_denominator(1000)
    return str(fr) if abs(float(fr) - f) < 1e-12 else repr(f)


def _concrete(names) -> list[str]:
    return [n for n in names if "<" not in n and "{" not in n]


def _safe(errors: list, item: str, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - one failing entry must not stop the report
        errors.append({"item": item, "error": f"{type(err).__name__}: {err}"})
        errors[-1]["traceback"] = traceback.format_exc(limit=3)
        return None


# --------------------------------------------------------------------------- lattices


def _lattice_row(name: str, quick: bool, seed: int) -> dict:
    L = get_lattice(name)
    row = {"kind": "lattice", **lattice_stats(name)}
    n = int(L.dim)
    k = int(row["kissing_number"])
    row["kissing_levenshtein"] = bounds.levenshtein_bound(n, 0.5) if n >= 2 else 2.0
    if n >= 3:
        row["kissing_lp"] = bounds.delsarte_lp_bound(n, 0.5)
    else:
        row["kissing_lp"] = None
    best = min(v for v in (row["kissing_levenshtein"], row["kissing_lp"]) if v is not None)
    row["kissing_gap"] = k / best
    samples = 2000 if quick else 20_000
    nsm = L.normalized_second_moment(n_samples=samples, seed=seed)
    value, stderr = (nsm if isinstance(nsm, tuple) else (float(nsm), None))[:2]
    row["nsm"], row["nsm_stderr"], row["nsm_samples"] = float(value), stderr, samples
    try:
        ex = known_normalized_second_moment(L)
        row["nsm_exact"] = float(ex) if ex is not None else None
    except ImportError:  # pragma: no cover
        row["nsm_exact"] = None
    return row


# ------------------------------------------------------------------------------ codes


def _distance_invariant_distribution(C):
    """The code's inner-product distribution seen from one codeword, or None."""
    if not getattr(C, "distance_invariant", False):
        return None
    dist = C.inner_product_distribution()
    return dist if isinstance(dist, dict) and dist else None


def _code_row(name: str, seed: int) -> dict:
    C = get_code(name)
    d, n = int(C.dim), int(C.size)
    delta = float(C.min_distance())
    s = float(C.max_inner_product())
    row = {
        "kind": "code",
        "name": name,
        "dim": d,
        "size": n,
        "bits": bits_per_codeword(n),
        "min_distance": delta,
        "min_angle_deg": math.degrees(float(C.min_angle())),
        "max_inner_product": s,
    }
    dist = _distance_invariant_distribution(C)
    if dist is not None:
        row["inner_products"] = {
            _key(k): int(v) for k, v in sorted(dist.items(), key=lambda kv: -float(kv[0]))
        }
    if dist is not None:
        # recomputed from the distribution (exact for rational inner products)
        row["design_strength"] = design_strength_from_distribution(dist, d)
    elif d <= 3 or n <= _GENERIC_DESIGN_MAX:
        row["design_strength"] = int(C.design_strength())
    else:
        # a large code without structure: the O(N d^2) moments decide strength 0 or 1;
        # beyond that the generic O(N^2) computation is left out of the report
        t = design_strength(C.points, max_t=2)
        row["design_strength"] = t if t < 2 else None
        if t >= 2:
            row["design_note"] = f"at least 2 (N > {_GENERIC_DESIGN_MAX:,}: not checked further)"
    # bounds at this code's s, and on delta for this N
    if d >= 2 and s < 1:
        lev = bounds.levenshtein_bound(d, s)
        row["levenshtein_bound"] = lev
        row["rankin_bound"] = bounds.rankin_bound(d, s)
        row["kl_bound"] = bounds.kabatiansky_levenshtein_bound(d, s)
        # the LP is reliable in double precision for bounds up to ~1e8 and cheap at low degree
        use_lp = d >= 3 and lev <= _LP_MAX_BOUND and bounds.levenshtein_degree(d, s) <= 40
        row["lp_bound"] = bounds.delsarte_lp_bound(d, s) if use_lp else None
        best = min(v for v in (lev, row["lp_bound"]) if v is not None)
        row["size_gap"] = n / best
    if d >= 2 and n >= 2:
        db = bounds.delta_min_upper_bound(d, n)
        row["delta_bound"] = db
        row["delta_gap"] = delta / db
    return row


# ---------------------------------------------------------------------------- figures


#: Steps of :func:`_figures` (for the progress bar's total).
_FIGURE_STEPS = 9


def _figures(out_dir: str, quick: bool, prog: _Progress, errors: list, cache) -> dict:
    fig_dir = os.path.join(out_dir, "figures")
    os.makedirs(fig_dir, exist_ok=True)
    figs = {}

    def save(key, fname, fn, *args, **kwargs):
        path = os.path.join(fig_dir, fname)
        with prog.step(f"figure {fname}"):
            if _safe(errors, f"figure {fname}", fn, *args, path=path, **kwargs) is not None:
                figs[key] = os.path.join("figures", fname)

    for dim in (3, 24):
        with prog.step(f"delta_min series S^{dim - 1}"):
            series = _safe(
                errors,
                f"delta_min series S^{dim - 1}",
                cache.get_or_compute,
                {"what": "delta_min_series", "dim": dim, "quick": bool(quick)},
                lambda dim=dim: plots.delta_min_series(
                    dim, quick=quick, progress=lambda m: prog.detail(f"  {m}")
                ),
            )
        if series is not None:
            save(
                f"delta_min_S{dim - 1}",
                f"delta_min_S{dim - 1}.png",
                plots.plot_delta_min_vs_n,
                series,
                dim,
            )
        else:
            prog.bar.update(1)

    for name in ("leech", "e8", "leech-4600", "leech-891"):
        C = _safe(errors, f"figure input {name}", get_code, name)
        if C is not None:
            save(
                f"inner_products_{name}",
                f"inner_products_{name}.png",
                plots.plot_inner_product_histogram,
                C,
                title=f"inner products: {name}",
            )
        else:
            prog.bar.update(1)
    fib = "fibonacci-500" if quick else "fibonacci-1000"
    C = _safe(errors, f"figure input {fib}", get_code, fib)
    if C is not None:
        save(f"sphere_{fib}", f"sphere_{fib}.png", plots.plot_sphere_points, C)
    else:
        prog.bar.update(1)
    return figs


# ---------------------------------------------------------------------------- writing

_LATTICE_COLUMNS = [
    ("name", "lattice"),
    ("dim", "dim"),
    ("det_exact", "det"),
    ("min_norm", "min norm"),
    ("kissing_number", "kissing"),
    ("kissing_levenshtein", "Levenshtein L(d,½)"),
    ("kissing_lp", "LP bound"),
    ("kissing_gap", "kissing / bound"),
    ("center_density", "center density"),
    ("density", "density"),
    ("hermite_constant", "Hermite γ"),
    ("covering_radius", "covering radius"),
    ("nsm", "NSM G"),
]
_CODE_COLUMNS = [
    ("name", "code"),
    ("dim", "d"),
    ("size", "N"),
    ("bits", "bits"),
    ("min_distance", "δ_min"),
    ("min_angle_deg", "angle °"),
    ("max_inner_product", "s"),
    ("design_strength", "t-design"),
    ("levenshtein_bound", "L(d,s)"),
    ("lp_bound", "LP(d,s)"),
    ("size_gap", "N / bound"),
    ("delta_bound", "δ bound"),
    ("delta_gap", "δ_min / bound"),
]


def _cell(row: dict, key: str) -> str:
    v = row.get(key)
    if key == "nsm" and v is not None:
        se = row.get("nsm_stderr")
        return f"{v:.5f} ± {se:.5f}" if se is not None else f"{v:.5f}"
    if key == "bits" and v is not None:
        return f"{v:.2f}"
    if key in ("size_gap", "delta_gap", "kissing_gap") and v is not None:
        return f"{v:.4f}" if v >= 1e-3 else f"{v:.2e}"
    return _fmt(v)


def _table(rows: list[dict], cols) -> list[str]:
    lines = ["| " + " | ".join(h for _, h in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_cell(r, k) for k, _ in cols) + " |")
    return lines


def _markdown(rep: dict) -> str:
    out = [
        "# lattiq report",
        "",
        f"lattiq {rep['version']}, {'quick' if rep['quick'] else 'full'} run, "
        f"{rep['seconds']:.1f} s. δ_min is the chord distance between distinct unit "
        "codewords; s is the largest inner product between distinct codewords.",
        "",
        "## Lattices",
        "",
        "Kissing configurations have s = ½, so the kissing number is bounded by Levenshtein's "
        "L(d, ½) and the Delsarte LP bound. NSM is a Monte Carlo estimate with the exact "
        "decoder (± one standard error).",
        "",
        *_table(rep["lattices"], _LATTICE_COLUMNS),
        "",
        "Theta series (vectors of norm 0, 1, 2, ...):",
        "",
    ]
    for r in rep["lattices"]:
        if r.get("theta"):
            out.append(f"* {r['name']}: {', '.join(f'{int(v):,}' for v in r['theta'])}")
    out += [
        "",
        "## Spherical codes",
        "",
        "L(d, s) is Levenshtein's bound and LP(d, s) the Delsarte linear-programming bound on "
        "the number of codewords with inner products at most s; `N / bound` is 1 for a code "
        "that meets the better of them. `δ bound` is the best upper bound on δ_min for N "
        "points in d dimensions (Levenshtein, Rankin, Fejes Tóth on S²).",
        "",
        *_table(rep["codes"], _CODE_COLUMNS),
        "",
    ]
    for r in rep["codes"]:
        if r.get("inner_products"):
            ip = ", ".join(f"{k}: {v:,}" for k, v in r["inner_products"].items())
            out.append(f"* {r['name']} inner products seen from a codeword: {ip}")
    if rep["figures"]:
        out += ["", "## Figures", ""]
        for key, path in rep["figures"].items():
            out += [f"![{key}]({path})", ""]
    if rep["errors"]:
        out += ["", "## Entries that failed", ""]
        for e in rep["errors"]:
            out.append(f"* {e['item']}: {e['error']}")
    return "\n".join(out) + "\n"


def summary_text(rep: dict, out_dir: str) -> str:
    """A few lines for the terminal: the tables in brief, failures, where the files went."""
    lines = [
        f"lattiq report: {len(rep['lattices'])} lattices, {len(rep['codes'])} codes, "
        f"{len(rep['figures'])} figures in {rep['seconds']:.1f} s"
    ]
    lines.append("")
    lines.append(f"{'lattice':<8} {'dim':>4} {'kissing':>9} {'bound':>12} {'NSM':>18}")
    for r in rep["lattices"]:
        b = min(v for v in (r.get("kissing_levenshtein"), r.get("kissing_lp")) if v is not None)
        nsm = f"{r['nsm']:.5f}±{r['nsm_stderr']:.5f}" if r.get("nsm") is not None else "–"
        lines.append(f"{r['name']:<8} {r['dim']:>4} {r['kissing_number']:>9,} {b:>12.6g} {nsm:>18}")
    lines.append("")
    lines.append(f"{'code':<20} {'d':>3} {'N':>10} {'δ_min':>9} {'bound':>9} {'t':>3} {'N/L':>7}")
    for r in rep["codes"]:
        t = r.get("design_strength")
        lines.append(
            f"{r['name']:<20} {r['dim']:>3} {r['size']:>10,} {r['min_distance']:>9.5f} "
            f"{_fmt(r.get('delta_bound'), 5):>9} {('–' if t is None else t)!s:>3} "
            f"{_fmt(r.get('size_gap'), 4):>7}"
        )
    if rep["errors"]:
        lines.append("")
        lines.append(f"{len(rep['errors'])} entries failed:")
        lines += [f"  {e['item']}: {e['error']}" for e in rep["errors"]]
    lines.append("")
    lines.append(
        f"written: {os.path.join(out_dir, 'report.md')}, "
        f"{os.path.join(out_dir, 'report.json')}, {os.path.join(out_dir, 'figures')}/"
    )
    return "\n".join(lines)


# ------------------------------------------------------------------------------- main


def _code_names(quick: bool) -> list[str]:
    names = list(_QUICK_CODES if quick else REPORT_CODES)
    if not quick:
        for n in _concrete(list_codes()):
            if n not in names:
                names.append(n)
    return names


def _version(pkg) -> str:
    v = getattr(pkg, "__version__", None)
    if v is None:
        try:
            v = version("lattiq")
        except Exception:  # noqa: BLE001 - a version string is cosmetic
            v = "?"
    return str(v)


def _names(names, what: str) -> list[str]:
    if isinstance(names, str):
        names = [names]
    out = [str(n) for n in names]
    if not all(out):
        raise ValueError(f"{what}: empty name")
    return out


def _check_names(lattice_names, code_names) -> None:
    """``ValueError`` for a name the registries do not know (or refuse to build)."""
    for n in lattice_names:
        get_lattice(n)
    for n in code_names:
        get_code(n)


def _lattice_names(quick: bool) -> list[str]:
    names = list(_QUICK_LATTICES if quick else REPORT_LATTICES)
    if not quick:
        for n in _concrete(list_lattices()):
            if n not in names:
                names.append(n)
    return names


def run_report(
    out_dir="report",
    quick: bool = False,
    progress: bool = True,
    seed: int = 0,
    *,
    lattices=None,
    codes=None,
    figures: bool = True,
    cache: bool = True,
):
    """Measure every built-in lattice and spherical code, compare with the bounds, write it.

    .. math::
        \\text{size gap} = N / L(d, s), \\qquad
        \\text{distance gap} = \\delta_{\\min} / \\delta^*(d, N)

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder for ``report.md``, ``report.json`` and ``figures/`` (created if missing).
    quick : bool
        Fewer and smaller entries and Monte Carlo samples (a few seconds; for tests).
    progress : bool
        Print each step, with its time when it takes longer than half a second, to stderr.
    seed : int
        Seed of the Monte Carlo estimates.
    lattices, codes : sequence of str, optional
        Report only these lattice and code names (any name :func:`get_lattice` and
        :func:`get_code` accept) instead of the built-in lists.
    figures : bool
        Draw the figures (δ_min versus N on :math:`S^2` and :math:`S^{23}`, inner-product
        histograms, a 3-D view of a Fibonacci code).
    cache : bool
        Reuse the results of earlier runs kept by :class:`lattiq.resultcache.ResultCache`
        (``$LATTIQ_CACHE_DIR``, else ``$XDG_CACHE_HOME/lattiq``); they are exact (or seeded
        Monte Carlo) results keyed by their inputs, the lattiq version and a digest of the
        code that computes them. ``False`` recomputes everything and stores nothing.

    Returns
    -------
    dict
        ``{"version", "quick", "seconds", "lattices": [...], "codes": [...],
        "figures": {...}, "errors": [...], "out_dir"}``: one dict per lattice and per code
        (the JSON written to ``report.json``). An entry that fails is listed under
        ``errors`` and the report goes on.

    Raises
    ------
    ValueError
        Before any work: an output folder that is not a folder or cannot be created or
        written, or a lattice or code name (given in ``lattices`` / ``codes``) that the
        registries refuse.

    References
    ----------
    Conway & Sloane, SPLAG ch. 1 (invariants), ch. 9 (bounds); Levenshtein, Handbook of
    Coding Theory (1998) ch. 6.
    """
    # everything the caller named is checked before any work: the output folder, then
    # each lattice and code name (a typo is refused in a moment, not after the figures)
    out_dir = check_output_dir(out_dir, "report folder")
    lattice_names = _lattice_names(quick) if lattices is None else _names(lattices, "lattices")
    code_names = _code_names(quick) if codes is None else _names(codes, "codes")
    _check_names(lattice_names if lattices is not None else [],
                 code_names if codes is not None else [])
    with writing(out_dir, "report folder"):
        os.makedirs(out_dir, exist_ok=True)
    t0 = time.perf_counter()
    errors: list[dict] = []
    # exact results (and seeded Monte Carlo ones) are kept between runs, keyed by the inputs
    # and salted with the lattiq version and the source of what computes them
    store = ResultCache("report", _CACHE_DEPENDS_ON, enabled=cache)
    prog = _Progress(progress, len(lattice_names) + len(code_names)
                     + (_FIGURE_STEPS if figures else 0))  # fmt: skip
    lattice_rows, code_rows = [], []
    for name in lattice_names:
        with prog.step(f"lattice {name}"):
            row = _safe(errors, f"lattice {name}", store.get_or_compute,
                        {"what": "lattice", "name": name, "quick": bool(quick), "seed": seed},
                        lambda name=name: _plain(_lattice_row(name, quick, seed)))  # fmt: skip
        if row is not None:
            lattice_rows.append(row)
    for name in code_names:
        with prog.step(f"code {name}"):
            row = _safe(errors, f"code {name}", store.get_or_compute,
                        {"what": "code", "name": name, "seed": seed},
                        lambda name=name: _plain(_code_row(name, seed)))  # fmt: skip
        if row is not None:
            code_rows.append(row)
    figs = _figures(out_dir, quick, prog, errors, store) if figures else {}
    prog.close()
    rep = {
        "version": _version(lattiq),
        "quick": bool(quick),
        "seconds": time.perf_counter() - t0,
        "lattices": lattice_rows,
        "codes": code_rows,
        "figures": figs,
        "errors": [{k: v for k, v in e.items() if k != "traceback"} for e in errors],
        "out_dir": out_dir,
    }
    rep = _plain(rep)
    with writing(out_dir, "report"):
        with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as f:
            json.dump(rep, f, indent=2)
        with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as f:
            f.write(_markdown(rep))
    for e in errors:
        prog.note(f"failed: {e['item']}\n{e.get('traceback', '')}")
    return rep
