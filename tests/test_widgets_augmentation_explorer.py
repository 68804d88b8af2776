"""The augmentation gallery plots and the augmentation explorer widget."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("torch")
pytest.importorskip("ipywidgets")

from coursekit.data import SHAPES_CLASSES, load, mix_batch  # noqa: E402
from coursekit.viz import (plot_tta_gain, show_augmented_grid, show_mixed_batch,  # noqa: E402
                           show_transform_gallery)


def test_transform_gallery_on_photo_and_grey_image():
    img = np.random.default_rng(0).random((40, 60, 3), dtype=np.float32)
    fig = show_transform_gallery(img, names=["hflip", "cutout"], n=3)
    assert len(fig.axes) == 2 * 4 and fig.axes[0].get_ylabel() == "hflip"
    plt.close(fig)
    fig = show_transform_gallery(img[..., 0], names=["rotate"], n=2)
    assert len(fig.axes) == 3
    plt.close(fig)
    with pytest.raises(ValueError, match="image"):
        show_transform_gallery(np.zeros(5))


def test_grid_and_mixed_batch():
    x, y = load("shapes", "val", n=7)
    fig = show_augmented_grid(x, None, y, SHAPES_CLASSES, cols=4)
    titles = [a.get_title() for a in fig.axes[:7]]
    assert titles == [SHAPES_CLASSES[k] for k in y]
    plt.close(fig)
    xm, ym = mix_batch(x, y, "cutmix", num_classes=10, seed=0)
    fig = show_mixed_batch(xm, ym, SHAPES_CLASSES, n=4)
    assert len(fig.axes) == 4
    plt.close(fig)
    fig = plot_tta_gain({"plain": 0.8, "TTA": 0.83})
    assert fig.axes[0].get_ylabel() == "test accuracy (%)"
    plt.close(fig)


def test_explorer_reacts_to_controls():
    from coursekit.widgets.augmentation_explorer import AugmentationExplorer
    w = AugmentationExplorer(n=6, seed=0)
    assert w.spec() == {"hflip": 0.5, "crop": 0.5}
    w.checks["cutout"].value = True
    w.sliders["cutout"].value = 0.9
    assert w.spec()["cutout"] == 0.9 and len(w.pipeline().transforms) == 3
    w.again.click()
    assert w.seed.value == 1
    assert "seed 1" in w.figure._suptitle.get_text()
    w.mix.value = "mixup"
    assert w.figure._suptitle.get_text().startswith("mixup")
    for name in w.checks:
        w.checks[name].value = False
    assert w.spec() == {}
    plt.close("all")
