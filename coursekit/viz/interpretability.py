"""Measuring attribution maps instead of admiring them.

- On images whose object masks are known: the **pointing game** (is the map's maximum
  inside the object?) and the **energy inside the mask** (share of the map's positive mass
  on the object; a map that ignores the image scores the mask's area fraction).
- **Sanity check** (Adebayo et al. 2018, cascading parameter randomization): re-initialize
  the layers from the top down and measure the Spearman rank correlation between the
  original and the randomized maps. A map that explains *the model* must change; one that
  stays the same (an edge detector, largely guided backprop) fails the check.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ..torchutil import eval_mode, layer_name, layers_in_forward_order
from ._model import as_input


def _maps(maps) -> np.ndarray:
    m = np.asarray(maps, dtype=np.float64)
    if m.ndim == 4:                     # (N, C, H, W) -> max |.| over channels
        m = np.abs(m).max(1)
    if m.ndim != 3:
        raise ValueError(f"maps must be (N, H, W) or (N, C, H, W), got shape {m.shape}")
    return m


def _masks(masks, shape) -> np.ndarray:
    k = np.asarray(masks).astype(bool)
    if k.shape != shape:
        raise ValueError(f"masks must have the maps' shape {shape}, got {k.shape}")
    return k


def pointing_game(maps, masks) -> np.ndarray:
    """(N,) bool: is the maximum of each map (N, H, W) inside its object mask (N, H, W)?

    Ties count as a hit when any maximal pixel is inside; an all-constant map is a miss.
    """
    m = _maps(maps)
    k = _masks(masks, m.shape)
    top = m == m.max((1, 2), keepdims=True)
    constant = m.max((1, 2)) == m.min((1, 2))
    return (top & k).any((1, 2)) & ~constant


def energy_in_mask(maps, masks) -> np.ndarray:
    """(N,) share of each map's positive mass inside the mask: sum(m+ in mask) / sum(m+).

    NaN for a map without positive values.
    """
    m = np.clip(_maps(maps), 0, None)
    k = _masks(masks, m.shape)
    total = m.sum((1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (m * k).sum((1, 2)) / total, np.nan)


def evaluate_attributions(model: nn.Module, x, masks, methods: dict, target=None) -> dict:
    """Pointing game and energy-in-mask for each attribution method.

    ``methods``: {name: f(model, x, target) -> maps}; ``x`` (N, C, H, W), ``masks`` (N, H, W).
    Returns {name: {"pointing": hit rate, "energy": mean share, "n": N}} plus the row
    "uniform map" whose energy is the mean mask area (what a map ignoring the image scores).
    """
    masks = np.asarray(masks).astype(bool)
    out = {}
    for name, f in methods.items():
        m = f(model, x, target)
        out[name] = {"pointing": float(pointing_game(m, masks).mean()),
                     "energy": float(np.nanmean(energy_in_mask(m, masks))), "n": len(masks)}
    out["uniform map (chance)"] = {"pointing": float("nan"), "energy": float(masks.mean()),
                                   "n": len(masks)}
    return out


def format_table(results: dict, columns=("pointing", "energy")) -> str:
    """A Markdown table of :func:`evaluate_attributions` (or any {row: {col: value}})."""
    head = "| method | " + " | ".join(columns) + " |\n|---|" + "---|" * len(columns) + "\n"
    rows = []
    for name, r in results.items():
        cells = ["–" if np.isnan(r[c]) else f"{r[c]:.2f}" for c in columns]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return head + "\n".join(rows)


# ----------------------------------------------------------------------------- sanity check
def edge_detector(model: nn.Module, x, target=None) -> np.ndarray:
    """A "saliency method" that ignores the model: the image's Sobel gradient magnitude
    (N, H, W). It looks plausible and fails the randomization check by construction."""
    from scipy import ndimage
    a = as_input(x).cpu().numpy().mean(1)
    return np.stack([np.hypot(ndimage.sobel(i, 0), ndimage.sobel(i, 1)) for i in a])


def randomize(module: nn.Module, seed: int) -> None:
    """Re-initialize ``module``'s own parameters in place (``reset_parameters``) with a seed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module.reset_parameters()


def learnable_layers(model: nn.Module, x: torch.Tensor) -> list:
    """Conv2d and Linear layers in forward-execution order."""
    return layers_in_forward_order(model, x, (nn.Conv2d, nn.Linear))


def rank_correlation(a, b) -> float:
    """Mean over images of the Spearman rank correlation of maps a and b (N, H, W)."""
    from scipy.stats import spearmanr
    a, b = _maps(a), _maps(b)
    rs = []
    for u, v in zip(a, b):
        if u.std() == 0 or v.std() == 0:
            rs.append(0.0)
            continue
        rs.append(spearmanr(u.ravel(), v.ravel())[0])
    return float(np.mean(rs))


def cascading_randomization(model: nn.Module, x, method, target=None, seed: int = 0) -> list:
    """Adebayo et al.'s cascading randomization for one attribution ``method``.

    ``method(model, x, target) -> maps``. The target is fixed to the original model's
    prediction. Layers are re-initialized cumulatively from the output layer down (on a
    copy; ``model`` is untouched). Returns [(label, rank correlation with the original
    maps)], starting with ("original", 1.0).
    """
    x = as_input(x, model)
    with torch.no_grad(), eval_mode(model):
        t = model(x).argmax(1) if target is None else target
    ref = method(model, x, t)
    rnd = copy.deepcopy(model)
    names = {id(m): layer_name(rnd, m) for m in rnd.modules()}
    out = [("original", rank_correlation(ref, ref))]
    for i, layer in enumerate(reversed(learnable_layers(rnd, x))):
        randomize(layer, seed + i)
        out.append((names[id(layer)], rank_correlation(ref, method(rnd, x, t))))
    return out


def plot_sanity_check(results: dict, ax=None):
    """Plot {method: cascading_randomization(...)} as rank correlation vs randomized layer."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.8))
    for name, res in results.items():
        labels = [r[0] for r in res]
        ax.plot(range(len(res)), [r[1] for r in res], marker="o", label=name)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(["original"] + [f"→ {l}" for l in labels[1:]], rotation=45, ha="right",
                       fontsize=8)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylim(-0.5, 1.05)
    ax.set_xlabel("layers randomized so far (cascading from the output down)")
    ax.set_ylabel("Spearman rank corr. with original map")
    ax.set_title("Sanity check: a faithful map must decorrelate as weights are randomized", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    ax.figure.tight_layout()
    return ax
