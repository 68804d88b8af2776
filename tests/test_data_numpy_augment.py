"""From-scratch NumPy flip / crop / cutout / mixup, checked against torchvision v2."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torchvision.transforms import v2  # noqa: E402
from torchvision.transforms.v2 import functional as F  # noqa: E402

from coursekit.data import load, mix_batch  # noqa: E402
from coursekit.data import numpy_augment as na  # noqa: E402


@pytest.fixture(scope="module")
def x():
    return load("shapes", "test", n=8)[0]


def test_hflip_equals_v2(x):
    out = na.hflip(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_array_equal(out, F.horizontal_flip(torch.from_numpy(x)).numpy())
    np.testing.assert_array_equal(na.hflip(out), x)


def test_random_hflip_flips_exactly_the_reported_images(x):
    out, flipped = na.random_hflip(x, p=0.5, rng=0)
    assert 0 < flipped.sum() < len(x)
    np.testing.assert_array_equal(out[flipped], na.hflip(x[flipped]))
    np.testing.assert_array_equal(out[~flipped], x[~flipped])


@pytest.mark.parametrize("top, left", [(0, 0), (4, 4), (8, 1), (3, 7)])
def test_pad_crop_equals_v2_functional(x, top, left):
    ref = F.crop(F.pad(torch.from_numpy(x), [4], fill=0), top, left, 32, 32).numpy()
    np.testing.assert_array_equal(na.pad_crop(x, top, left, padding=4), ref)


def test_v2_random_crop_is_one_of_our_crops(x):
    """v2.RandomCrop(padding=4) output equals pad_crop at some offset (found by search)."""
    torch.manual_seed(0)
    t = v2.RandomCrop(32, padding=4, fill=0)
    for img in x[:4]:
        out = t(torch.from_numpy(img)).numpy()
        matches = [(a, b) for a in range(9) for b in range(9)
                   if np.array_equal(na.pad_crop(img, a, b, 4), out)]
        assert matches, "no offset reproduces v2's random crop"


def test_random_crop_offsets(x):
    out, offs = na.random_crop(x, padding=4, rng=1)
    assert out.shape == x.shape and offs.shape == (8, 2) and offs.min() >= 0 and offs.max() <= 8
    for img, o, (a, b) in zip(x, out, offs):
        np.testing.assert_array_equal(o, na.pad_crop(img, a, b, 4))
    again, _ = na.random_crop(x, padding=4, rng=1)
    np.testing.assert_array_equal(out, again)


def test_erase_equals_v2(x):
    ref = F.erase(torch.from_numpy(x), 5, 7, 10, 6, torch.tensor(0.0)).numpy()
    np.testing.assert_array_equal(na.erase(x, 5, 7, 10, 6, 0.0), ref)


def test_v2_random_erasing_is_an_erase_box(x):
    torch.manual_seed(1)
    t = v2.RandomErasing(p=1.0, value=0.0)
    img = x[0] + 0.01  # no exact zeros in the original
    out = t(torch.from_numpy(img)).numpy()
    rows, cols = np.nonzero((out != img).any(axis=0))
    top, left = rows.min(), cols.min()
    h, w = rows.max() - top + 1, cols.max() - left + 1
    np.testing.assert_array_equal(na.erase(img, top, left, h, w, 0.0), out)


def test_random_cutout_boxes(x):
    out, boxes = na.random_cutout(x + 0.01, size=8, rng=0, value=0.0)
    for o, (t, l, h, w) in zip(out, boxes):
        assert 0 < h <= 8 and 0 < w <= 8
        assert (o[:, t:t + h, l:l + w] == 0).all()
        assert (o == 0).sum() == 3 * h * w


def test_mixup_equals_v2(x):
    y = np.arange(8)
    xm, ym = mix_batch(x, y, "mixup", alpha=0.4, num_classes=8, seed=5)
    lam = float(ym[0, 0])  # v2's weight, read from its soft labels
    ours_x, ours_y = na.mixup(x, na.one_hot(y, 8), lam)
    np.testing.assert_allclose(ours_x, xm, atol=1e-6)
    np.testing.assert_allclose(ours_y, ym, atol=1e-6)


def test_random_mixup(x):
    xm, ym, lam = na.random_mixup(x, np.arange(8) % 3, num_classes=3, alpha=1.0, rng=0)
    assert 0 <= lam <= 1 and xm.shape == x.shape and xm.dtype == x.dtype
    np.testing.assert_allclose(ym.sum(1), 1.0, atol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        na.random_crop(np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="top"):
        na.pad_crop(np.zeros((1, 3, 8, 8)), 9, 0, padding=4)
    with pytest.raises(TypeError, match="rng"):
        na.random_hflip(np.zeros((1, 3, 8, 8)), rng="seed")
    with pytest.raises(ValueError, match="y"):
        na.one_hot([0, 5], 3)
