"""The generated shapes data set: determinism, splits, masks, difficulty, bad input."""
import subprocess
import sys

import numpy as np
import pytest

from coursekit.data import SHAPES_CLASSES, class_names, load, make_shapes


def test_import_does_not_load_torch():
    code = "import sys, coursekit.data; sys.exit(1 if 'torch' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0, \
        "import coursekit.data must not import torch (layer 1 loads it lazily)"


def test_shapes_types_ranges_and_classes():
    x, y = load("shapes", "train", n=600)
    assert x.shape == (600, 3, 32, 32) and x.dtype == np.float32
    assert y.shape == (600,) and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert len(SHAPES_CLASSES) >= 8 and class_names("shapes") == SHAPES_CLASSES
    # labels are balanced within each generation block of 1024 images
    _, y2, _ = make_shapes(2048, split="test")
    counts = np.bincount(y2, minlength=len(SHAPES_CLASSES))
    assert counts.max() - counts.min() <= 2, f"unbalanced classes {counts}"


def test_shapes_deterministic_for_seed_and_prefix_stable():
    a = load("shapes", "val", n=300, seed=3)
    b = load("shapes", "val", n=300, seed=3)
    c = load("shapes", "val", n=300, seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    longer = load("shapes", "val", n=1500, seed=3)  # spans two generation blocks
    assert np.array_equal(longer[0][:300], a[0])
    # thread count does not change the result
    x1, y1, _ = make_shapes(1500, split="val", seed=3, workers=1)
    assert np.array_equal(x1, longer[0]) and np.array_equal(y1, longer[1])


def test_splits_are_disjoint():
    xs = {s: load("shapes", s, n=500)[0] for s in ("train", "val", "test")}
    keys = {s: {img.tobytes() for img in x} for s, x in xs.items()}
    assert len(keys["train"]) == 500
    assert not keys["train"] & keys["val"] and not keys["train"] & keys["test"] \
        and not keys["val"] & keys["test"]


def test_masks_match_images():
    x, y, m = load("shapes", "test", n=200, with_masks=True, difficulty=0.0)
    assert m.shape == (200, 32, 32) and m.dtype == bool
    frac = m.mean(axis=(1, 2))
    assert frac.min() > 0.03 and frac.max() < 0.8, "every image shows one object"
    # the object is uniformly coloured: pixels inside the mask are closer to each other
    # than to the background pixels (low noise at difficulty 0)
    for i in range(20):
        inside = x[i][:, m[i]].mean(axis=1)
        outside = x[i][:, ~m[i]].mean(axis=1)
        assert np.abs(inside - outside).mean() > 0.1


def test_size_and_difficulty_knobs():
    x, y = load("shapes", n=50, size=64)
    assert x.shape == (50, 3, 64, 64)
    easy = load("shapes", n=200, difficulty="easy", with_masks=True)
    hard = load("shapes", n=200, difficulty="hard", with_masks=True)
    assert np.array_equal(easy[1], hard[1])  # same labels, harder rendering

    def background_spread(x, m):  # pixel variation of the background (noise + texture)
        return np.mean([x[i][:, ~m[i]].std(axis=1).mean() for i in range(len(x))])
    assert background_spread(hard[0], hard[2]) > 2 * background_spread(easy[0], easy[2])


def test_num_classes_option():
    _, y = load("shapes", n=300, num_classes=4)
    assert set(np.unique(y)) == {0, 1, 2, 3}


@pytest.mark.parametrize("kwargs, err, words", [
    (dict(name="nope"), ValueError, "available"),
    (dict(name="shapes", split="dev"), ValueError, "split"),
    (dict(name="shapes", n=-1), ValueError, "n="),
    (dict(name="shapes", n=2.5), ValueError, "n="),
    (dict(name="shapes", n=10, difficulty=1.5), ValueError, "difficulty"),
    (dict(name="shapes", n=10, difficulty="insane"), ValueError, "difficulty"),
    (dict(name="shapes", n=10, size=4), ValueError, "size"),
    (dict(name="shapes", n=10, colour=1), TypeError, "colour"),
    (dict(name="digits", with_masks=True), ValueError, "masks"),
])
def test_bad_input_is_rejected(kwargs, err, words):
    with pytest.raises(err, match=words):
        load(**kwargs)


def test_unknown_name_lists_available():
    with pytest.raises(ValueError, match="shapes.*digits.*mnist.*fashion_mnist.*cifar10"):
        load("imagenet")
