"""Record every figure a lesson draws, and check it against :mod:`coursekit.viz.style`'s contract.

In the kernel (``coursekit.lessons.execute`` starts it with :func:`install`), a display formatter
adds to every matplotlib Figure's output a JSON record under the MIME type :data:`MIME` (front
ends and nbconvert ignore it; the PNG is displayed as before). After the run,
:func:`notebook_problems` reads the records back from the executed notebook and lists what breaks
the contract, together with stray outputs such as ``Generator(PCG64) at 0x7f…``.

A record (:func:`audit_figure`) holds the figure's size in inches and dpi (the PNG's size in
pixels is added from the output), and per axes: its kind (``plot``, ``image``, ``colorbar``,
``off``), its box in inches, labels, limits and scales, the colour-mapped images on it (colour
map, limits, data range, colorbar), pairs of overlapping texts (from rendered extents), how many
data points a legend covers, and lines drawn exactly over another line.
"""
from __future__ import annotations

import base64
import re
import struct

import numpy as np

MIME = "application/vnd.coursekit.figure+json"

STRAY = re.compile(r" at 0x[0-9a-fA-F]{6,}>?|^<Figure size |^\[?<matplotlib\.|^Text\(-?[0-9.]+, -?[0-9.]+, ")


# --------------------------------------------------------------------------- kernel side

def _box(bbox, dpi):
    return [round(float(v) / dpi, 3) for v in (bbox.x0, bbox.y0, bbox.width, bbox.height)]


def _visible_texts(fig, renderer):
    """(owner, text, bbox) of the texts that must not overlap: tick labels, axis labels, titles."""
    out = []

    def add(owner, t):
        if t is not None and t.get_visible() and t.get_text().strip():
            try:
                bb = t.get_window_extent(renderer)
            except Exception:  # pragma: no cover - unusual artists
                return
            if bb.width > 0 and bb.height > 0:
                out.append((owner, t.get_text(), bb))

    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            if not axis.get_visible():
                continue
            for ticks in (axis.get_major_ticks(), axis.get_minor_ticks()):
                view = ax.get_xlim() if axis is ax.xaxis else ax.get_ylim()
                lo, hi = min(view), max(view)
                for tick in ticks:
                    loc = tick.get_loc()
                    if loc is None or not (lo - 1e-9 * (abs(lo) + abs(hi)) <= loc <= hi + 1e-9 * (abs(lo) + abs(hi))):
                        continue
                    add(k, tick.label1)
                    add(k, tick.label2)
            add(k, axis.label)
        for t in (ax.title, ax._left_title, ax._right_title):
            add(k, t)
    for t in (getattr(fig, "_suptitle", None), getattr(fig, "_supxlabel", None), getattr(fig, "_supylabel", None)):
        add("fig", t)
    return out


def _overlaps(texts, slack=1.0):
    """Pairs of texts whose rendered boxes overlap by more than ``slack`` pixels each way."""
    if len(texts) < 2:
        return []
    b = np.array([[bb.x0, bb.y0, bb.x1, bb.y1] for _, _, bb in texts])
    ox = np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0])
    oy = np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1])
    hit = (ox > slack) & (oy > slack)
    i, j = np.nonzero(np.triu(hit, 1))
    return [(texts[a][0], texts[a][1], texts[c][1]) for a, c in zip(i, j)]


def _display_points(artist, per_segment=8):
    """Points along a Line2D's path in display pixels (segments densified)."""
    path = artist.get_path()
    if len(path.vertices) == 0:
        return np.empty((0, 2))
    v = artist.get_transform().transform(path.vertices)
    v = v[np.all(np.isfinite(v), axis=1)]
    if len(v) > 1 and artist.get_linestyle() not in ("None", "", " "):
        t = np.linspace(0, 1, per_segment, endpoint=False)[:, None, None]
        v = (v[:-1][None] * (1 - t) + v[1:][None] * t).reshape(-1, 2)
    return v


def _legend_cover(ax, renderer):
    """How many data points (line vertices, scatter points, bar corners) lie under ``ax``'s legend."""
    leg = ax.get_legend()
    if leg is None or not leg.get_visible():
        return 0
    lb = leg.get_window_extent(renderer)
    ab = ax.get_window_extent(renderer)
    if lb.x0 >= ab.x1 - 1 or lb.x1 <= ab.x0 + 1 or lb.y0 >= ab.y1 - 1 or lb.y1 <= ab.y0 + 1:
        return 0  # outside the axes
    pts = [_display_points(line) for line in ax.lines if line.get_visible()]
    for c in ax.collections:
        if c.get_visible() and len(c.get_offsets()):
            try:
                pts.append(c.get_offset_transform().transform(c.get_offsets()))
            except Exception:  # pragma: no cover
                pass
    for p in ax.patches:
        if p.get_visible() and hasattr(p, "get_bbox"):
            bb = p.get_window_extent(renderer)
            pts.append(np.array([[bb.x0, bb.y1], [bb.x1, bb.y1], [(bb.x0 + bb.x1) / 2, bb.y1]]))
    if not pts:
        return 0
    p = np.concatenate([q for q in pts if len(q)]) if any(len(q) for q in pts) else np.empty((0, 2))
    inside = (p[:, 0] > lb.x0) & (p[:, 0] < lb.x1) & (p[:, 1] > lb.y0) & (p[:, 1] < lb.y1)
    return int(inside.sum())


def _hidden_lines(ax, tol=1.0):
    """Labels of lines drawn (within ``tol`` px) exactly over an earlier line of the same style."""
    lines = [ln for ln in ax.lines if ln.get_visible() and ln.get_linestyle() not in ("None", "", " ")
             and len(ln.get_xydata()) > 1]
    out = []
    for i, a in enumerate(lines):
        pa = a.get_transform().transform(a.get_xydata())
        for b in lines[i + 1:]:
            if (b.get_linestyle() != a.get_linestyle() or len(b.get_xydata()) != len(a.get_xydata())
                    or b.get_color() == a.get_color()):   # same look (e.g. seeds of one run): nothing is lost
                continue
            pb = b.get_transform().transform(b.get_xydata())
            d = np.abs(pa - pb)
            ok = np.all(np.isfinite(d), axis=1)
            if ok.sum() > 1 and np.max(d[ok]) <= tol:
                out.append(f"'{a.get_label()}' under '{b.get_label()}'")
    return out


def _mappables(ax):
    from matplotlib.collections import QuadMesh
    from matplotlib.image import AxesImage

    return [m for m in list(ax.images) + [c for c in ax.collections if isinstance(c, QuadMesh)]
            if isinstance(m, (AxesImage, QuadMesh)) and m.get_visible()]


def _image_record(m, colorbars):
    a = np.ma.masked_invalid(np.ma.asarray(m.get_array(), dtype=float)) if m.get_array() is not None else None
    rgb = a is not None and a.ndim == 3
    vmin, vmax = m.get_clim()
    rec = {"cmap": None if rgb else m.get_cmap().name, "rgb": bool(rgb),
           "vmin": None if vmin is None else float(vmin), "vmax": None if vmax is None else float(vmax),
           "norm": type(m.norm).__name__, "shape": list(np.shape(a)) if a is not None else None}
    if a is not None and not rgb and a.count():
        rec["data_min"], rec["data_max"] = float(a.min()), float(a.max())
    rec["colorbar"] = bool(m.colorbar is not None or any(
        cb.mappable.get_cmap().name == rec["cmap"] and tuple(cb.mappable.get_clim()) == (vmin, vmax)
        for cb in colorbars))
    return rec


def audit_figure(fig) -> dict:
    """The record of one drawn figure (see the module docstring); draws it without rendering."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    dpi = float(fig.dpi)
    colorbars = [ax._colorbar for ax in fig.axes if getattr(ax, "_colorbar", None) is not None]
    texts = _visible_texts(fig, renderer)
    overlaps = _overlaps(texts)
    axes = []
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        maps = _mappables(ax)
        if getattr(ax, "_colorbar", None) is not None:
            kind = "colorbar"
        elif maps:
            kind = "image"
        elif not ax.axison and not (ax.lines or ax.patches or ax.collections):
            kind = "off"
        else:
            kind = "plot"
        rec = {"kind": kind, "box_in": _box(ax.get_window_extent(renderer), dpi),
               "title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
               "xlim": [float(v) for v in ax.get_xlim()], "ylim": [float(v) for v in ax.get_ylim()],
               "xscale": ax.get_xscale(), "yscale": ax.get_yscale(),
               "overlaps": [f"{a!r} / {b!r}" for o, a, b in overlaps if o == k]}
        if kind == "image":
            rec["images"] = [_image_record(m, colorbars) for m in maps]
            for im in rec["images"]:   # every value printed on its cell: the numbers are the legend
                im["annotated"] = bool(im["shape"]) and len(ax.texts) >= int(np.prod(im["shape"][:2]))
        if kind == "plot":
            rec["legend_covers"] = _legend_cover(ax, renderer)
            rec["hidden_lines"] = _hidden_lines(ax)
            for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
                if axis.get_scale() == "log":
                    lo, hi = sorted(ax.get_xlim() if name == "x" else ax.get_ylim())
                    labelled = [t for t in axis.get_major_ticks() + axis.get_minor_ticks()
                                if t.label1.get_visible() and t.label1.get_text().strip() and lo <= t.get_loc() <= hi]
                    minor = set(map(id, axis.get_minor_ticks()))
                    rec[f"{name}_log_labels"] = len(labelled)
                    rec[f"{name}_log_minor_labels"] = sum(1 for t in labelled if id(t) in minor)
        axes.append(rec)
    cross = [f"{a!r} / {b!r}" for o, a, b in overlaps if o == "fig"]
    return {"figsize_in": [round(float(v), 3) for v in fig.get_size_inches()], "dpi": dpi,
            "suptitle": fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else "",
            "axes": axes, "figure_overlaps": cross}


def _record_or_none(obj):
    """The figure record of ``obj`` when it is a matplotlib Figure, else None (never raises)."""
    import sys

    fig_type = getattr(sys.modules.get("matplotlib.figure"), "Figure", None)
    if fig_type is None or not isinstance(obj, fig_type):
        return None
    try:
        return audit_figure(obj)
    except Exception as exc:  # the audit must never break a lesson
        return {"error": f"{type(exc).__name__}: {exc}"}


def install(shell=None) -> None:
    """Attach the figure record to every Figure the IPython ``shell`` displays (default: the
    running one). Called in the lesson's kernel by :func:`coursekit.lessons.execute`."""
    from IPython.core.formatters import JSONFormatter

    class RecordFormatter(JSONFormatter):
        # checks the type itself: the inline backend pops Figure from every formatter's registry
        def __call__(self, obj):
            return _record_or_none(obj)

    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    if shell is not None:
        fmt = RecordFormatter(parent=shell.display_formatter)
        fmt.format_type = MIME
        shell.display_formatter.formatters[MIME] = fmt


KERNEL_ARGUMENT = "--IPKernelApp.exec_lines=import coursekit.figure_audit as _ck_audit; _ck_audit.install(); del _ck_audit"


# --------------------------------------------------------------------------- reading a notebook

def _png_size(data) -> tuple[int, int] | None:
    try:
        raw = base64.b64decode(data[:64] if isinstance(data, str) else "".join(data)[:64])
        w, h = struct.unpack(">II", raw[16:24])
        return int(w), int(h)
    except Exception:
        return None


def figures_in_notebook(nb) -> list[dict]:
    """The figure records of an executed notebook, in order, each with ``cell`` (code-cell index
    in the notebook) and ``png_px`` (width, height of the displayed PNG) added."""
    out = []
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if MIME in data:
                rec = dict(data[MIME])
                rec["cell"] = i
                if "image/png" in data:
                    rec["png_px"] = _png_size(data["image/png"])
                out.append(rec)
    return out


def stray_outputs(nb) -> list[str]:
    """Outputs that are object reprs, not results (``Generator(PCG64) at 0x…``, ``Text(…)``)."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "execute_result":
                text = o.get("data", {}).get("text/plain", "")
            elif o.get("output_type") == "stream":
                text = o.get("text", "")
            elif o.get("output_type") == "display_data" and set(o.get("data", {})) == {"text/plain"}:
                text = o["data"]["text/plain"]
            else:
                continue
            text = "".join(text) if isinstance(text, list) else text
            for line in text.splitlines():
                if STRAY.search(line.strip()):
                    found.append(f"cell {i}: stray output {line.strip()[:80]!r}")
                    break
    return found


def _close(a, b, rel=1e-6):
    span = max(abs(a[1] - a[0]), abs(b[1] - b[0]), 1e-300)
    return abs(a[0] - b[0]) <= rel * span and abs(a[1] - b[1]) <= rel * span


def figure_problems(rec: dict) -> list[str]:
    """What in one figure record breaks the contract of :mod:`coursekit.viz.style` (empty: none)."""
    from .viz import style

    if "error" in rec:
        return [f"the audit failed: {rec['error']}"]
    probs = []
    w_in = rec["figsize_in"][0]
    px = rec.get("png_px")
    if w_in > style.MAX_WIDTH_IN * 1.04 or (px and px[0] > style.MAX_WIDTH_IN * style.DPI * 1.04):
        probs.append(f"too wide: {w_in:.1f} in" + (f", {px[0]} px" if px else "")
                     + f" (at most {style.MAX_WIDTH_IN:g} in, {style.MAX_WIDTH_IN * style.DPI:.0f} px)")
    small_img = [a for a in rec["axes"] if a["kind"] == "image" and max(a["box_in"][2:]) < style.MIN_IMAGE_IN * 0.96]
    if small_img:
        sizes = sorted({f"{max(a['box_in'][2:]):.2f}" for a in small_img})
        probs.append(f"{len(small_img)} image panel(s) under {style.MIN_IMAGE_IN} in (longer side {', '.join(sizes)} in)")
    mw, mh = style.MIN_PLOT_IN
    small_plot = [a for a in rec["axes"] if a["kind"] == "plot" and (a["box_in"][2] < mw * 0.96 or a["box_in"][3] < mh * 0.96)]
    if small_plot:
        sizes = sorted({f"{a['box_in'][2]:.1f}x{a['box_in'][3]:.1f}" for a in small_plot})
        probs.append(f"{len(small_plot)} plot panel(s) under {mw}x{mh} in ({', '.join(sizes)} in)")
    for k, a in enumerate(rec["axes"]):
        name = f"panel {k} {a['title']!r}" if a["title"] else f"panel {k}"
        for im in a.get("images", []):
            if im["rgb"] or "data_min" not in im:
                continue
            lo, hi = im["data_min"], im["data_max"]
            big = max(-lo, hi)
            if not (big > 0 and -lo >= style.SIGNED_FRACTION * big and hi >= style.SIGNED_FRACTION * big):
                continue
            if im["cmap"] not in style.DIVERGING_MAPS:
                probs.append(f"{name}: signed data ({lo:.3g} to {hi:.3g}) in the sequential map {im['cmap']!r}")
            elif im["norm"] not in ("TwoSlopeNorm", "CenteredNorm") and (
                    im["vmin"] is None or abs(im["vmin"] + im["vmax"]) > 0.02 * max(abs(im["vmin"]), abs(im["vmax"]))):
                probs.append(f"{name}: diverging map with limits {im['vmin']:.3g}, {im['vmax']:.3g} not symmetric about 0")
            if not im["colorbar"] and not im.get("annotated"):
                probs.append(f"{name}: signed data without a colorbar")
        for o in a["overlaps"]:
            probs.append(f"{name}: overlapping labels {o}")
        if a.get("legend_covers"):
            probs.append(f"{name}: the legend covers {a['legend_covers']} data point(s)")
        for h in a.get("hidden_lines", []):
            probs.append(f"{name}: line {h} (drawn exactly over it)")
        for axis in ("x", "y"):
            n = a.get(f"{axis}_log_labels")
            if n is not None and n < 2:
                probs.append(f"{name}: log {axis} axis with {n} labelled tick(s); label the decades")
            if a.get(f"{axis}_log_minor_labels"):
                probs.append(f"{name}: log {axis} axis labels {a[f'{axis}_log_minor_labels']} minor ticks "
                             "(use coursekit.viz.style.log_ticks)")
    for o in rec.get("figure_overlaps", []):
        probs.append(f"overlapping labels {o}")
    # panels compared: plots with the same axis labels share their limits
    groups = {}
    for a in rec["axes"]:
        if a["kind"] == "plot" and a["xlabel"] and a["ylabel"]:
            groups.setdefault((a["xlabel"], a["ylabel"]), []).append(a)
    for (xl, yl), grp in groups.items():
        for axis in ("x", "y"):
            lims = [tuple(a[f"{axis}lim"]) for a in grp]
            if len(grp) > 1 and not all(_close(lims[0], l) for l in lims[1:]):
                probs.append(f"{len(grp)} panels of {yl!r} vs {xl!r} on different {axis} ranges: share the axis")
    return probs


def notebook_problems(nb) -> list[str]:
    """Every contract problem of the figures in an executed notebook, and its stray outputs."""
    probs = []
    for n, rec in enumerate(figures_in_notebook(nb)):
        title = rec.get("suptitle") or next((a["title"] for a in rec.get("axes", []) if a.get("title")), "")
        probs += [f"cell {rec['cell']} figure {n} {title[:40]!r}: {p}" for p in figure_problems(rec)]
    return probs + stray_outputs(nb)
