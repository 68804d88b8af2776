"""The explorers' text readouts (what tests/test_browser.py reads in Chromium) say what
coursekit computes, checked here as Python objects (no browser, a few seconds)."""
import numpy as np
import pytest


def test_augmentation_readout_gives_mix_batch_soft_labels():
    from coursekit.data import SHAPES_CLASSES, augment_batch, augmentation, load, mix_batch
    from coursekit.widgets.augmentation_explorer import AugmentationExplorer

    w = AugmentationExplorer(n=6, seed=3)
    assert w.info.value.startswith("6 images, 32×32") and "seed 3" in w.info.value
    w.mix.value = "cutmix"
    x, y = load("shapes", "val", n=6)
    xa = augment_batch(x, augmentation(w.spec(), size=(32, 32)), seed=3)
    _, y_soft = mix_batch(xa, y, "cutmix", num_classes=len(SHAPES_CLASSES), seed=3)
    first = y_soft[0]
    words = " + ".join(f"{SHAPES_CLASSES[k]} {first[k]:.2f}"
                       for k in np.argsort(first)[::-1] if first[k] > 0)
    assert w.info.value.startswith("cutmix after") and f"image 1: {words};" in w.info.value


def test_bn_dropout_readout_is_activation_stats():
    from coursekit.widgets import bn_dropout_explorer

    w = bn_dropout_explorer(depth=4, width=32)
    w.batchnorm.value = True
    std, zeros = w.stats["std"], w.stats["zero_frac"]
    assert w.summary_html.value == (f"activation std: first layer {std[0]:.3f}, last layer "
                                    f"(layer 4) {std[-1]:.3f} · zeros in the last layer: "
                                    f"{zeros[-1]:.1%}")


@pytest.mark.parametrize("lr", [0.05, 3.0])  # converges / diverges
def test_optimizer_readout_is_where_the_path_ends(lr):
    from coursekit.optim import SURFACES, optimizer_path
    from coursekit.widgets import optimizer_explorer

    panel = optimizer_explorer(optimizers=("sgd",), steps=20)
    panel.children[0].children[2].value = lr          # the learning-rate slider
    text = panel.children[1].children[1].value
    path = optimizer_path("ravine", "sgd", lr=lr, steps=20)
    x, y = path[-1]
    if len(path) == 21:
        loss = SURFACES["ravine"]["f"](x, y)
        assert text == f"sgd: after 20 steps at ({x:.3f}, {y:.3f}), loss {loss:.4g}"
    else:
        assert text.startswith(f"sgd: diverged at step {len(path)} ")
