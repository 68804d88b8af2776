"""torchvision v2 augmentation pipelines, MixUp/CutMix and test-time augmentation."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from coursekit.data import (TRANSFORMS, augment_batch, augmentation, load, make_transform,  # noqa: E402
                            mix_batch, predict_tta)
from coursekit.data.augment import LABEL_PRESERVING, PRESETS  # noqa: E402


@pytest.fixture(scope="module")
def shapes():
    return load("shapes", "val", n=16)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_each_transform_keeps_shape_dtype_range_and_is_seeded(name, shapes):
    x, _ = shapes
    t = make_transform(name, 0.8, size=32)
    a = augment_batch(x, t, seed=1)
    b = augment_batch(x, t, seed=1)
    c = augment_batch(x, t, seed=2)
    assert isinstance(a, np.ndarray) and a.shape == x.shape and a.dtype == np.float32
    assert np.array_equal(a, b), "same seed, same result"
    assert not np.array_equal(a, c), "another seed, another result"
    assert a.min() >= 0 and a.max() <= 1 + 1e-6
    assert not np.array_equal(a, x), f"{name} at strength 0.8 changed nothing"


def test_strength_zero_is_identity_for_geometric(shapes):
    x, _ = shapes
    for name in ("hflip", "crop", "cutout", "translate", "rotate"):
        out = augment_batch(x, make_transform(name, 0.0), seed=0)
        np.testing.assert_allclose(out, x, atol=1e-6, err_msg=name)


def test_seed_leaves_global_rng_alone(shapes):
    x, _ = shapes
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    augment_batch(x, augmentation("strong"), seed=7)
    assert torch.equal(torch.rand(3), expected)


def test_images_of_a_batch_get_independent_parameters(shapes):
    x, _ = shapes
    same = np.repeat(x[:1], 16, axis=0)
    out = augment_batch(same, make_transform("crop", 1.0), seed=0)
    assert len({o.tobytes() for o in out}) > 4


def test_pipelines_and_presets(shapes):
    x, _ = shapes
    for preset in PRESETS:
        out = augment_batch(x, augmentation(preset), seed=0)
        assert out.shape == x.shape
    pipe = augmentation({"hflip": 1.0, "cutout": 0.5})
    assert len(pipe.transforms) == 2
    with pytest.raises(ValueError, match="preset"):
        augmentation("extreme")
    with pytest.raises(ValueError, match="unknown transform"):
        make_transform("mixup")
    with pytest.raises(ValueError, match="strength"):
        make_transform("hflip", 2.0)
    with pytest.raises(TypeError):
        augment_batch([1, 2], pipe)


def test_label_preserving_pipeline_keeps_labels_through_the_loader():
    from coursekit.data import dataloaders
    train, _ = dataloaders("shapes", batch_size=50, n_train=200, n_val=10,
                           augment=list(LABEL_PRESERVING), normalize=False)
    ys = torch.cat([b[1] for b in train])
    _, y = load("shapes", "train", n=200)
    assert sorted(ys.tolist()) == sorted(y.tolist())
    ds = train.dataset
    for i in range(10):  # item i keeps label i whatever the augmentation drew
        assert int(ds[i][1]) == y[i]


def test_torch_tensor_in_torch_tensor_out(shapes):
    xt = torch.from_numpy(shapes[0])
    out = augment_batch(xt, make_transform("hflip", 1.0))
    assert isinstance(out, torch.Tensor)
    assert torch.equal(out, torch.flip(xt, dims=[-1]))


@pytest.mark.parametrize("kind", ["mixup", "cutmix"])
def test_mix_targets_sum_to_one_and_are_seeded(kind, shapes):
    x, y = shapes
    xm, ym = mix_batch(x, y, kind, alpha=1.0, num_classes=10, seed=3)
    xm2, ym2 = mix_batch(x, y, kind, alpha=1.0, num_classes=10, seed=3)
    assert np.array_equal(xm, xm2) and np.array_equal(ym, ym2)
    assert xm.shape == x.shape and xm.dtype == np.float32 and ym.shape == (16, 10)
    np.testing.assert_allclose(ym.sum(axis=1), 1.0, atol=1e-6)
    # weight of the own label and of the partner's (image i-1)
    lam = ym[np.arange(16), y]
    partner = np.roll(y, 1)
    diff = y != partner
    np.testing.assert_allclose(ym[diff, partner[diff]], 1 - lam[diff], atol=1e-6)


def test_mixup_image_is_the_convex_combination(shapes):
    x, y = shapes
    xm, ym = mix_batch(x, y, "mixup", num_classes=10, seed=0)
    i = int(np.nonzero(y != np.roll(y, 1))[0][0])
    lam = ym[i, y[i]]
    np.testing.assert_allclose(xm[i], lam * x[i] + (1 - lam) * x[i - 1], atol=1e-5)


def test_cutmix_label_weight_equals_pasted_area():
    n, size = 8, 32
    x = np.stack([np.full((3, size, size), k / 10, np.float32) for k in range(n)])
    y = np.arange(n)
    for seed in range(5):
        xm, ym = mix_batch(x, y, "cutmix", alpha=1.0, num_classes=n, seed=seed)
        for i in range(n):
            pasted = np.isclose(xm[i, 0], x[i - 1, 0, 0, 0]).mean()   # from image i-1
            assert np.isclose(ym[i, i - 1 if i else n - 1], pasted, atol=1e-6)
            assert np.isclose(ym[i, i], 1 - pasted, atol=1e-6)


class _Tiny(torch.nn.Module):
    """A fixed 'model' whose score is the mean of the left half of the image (not flip-invariant)."""

    def forward(self, x):
        left = x[..., : x.shape[-1] // 2].mean(dim=(1, 2, 3))
        return torch.stack([left, -left], dim=1) * 10


def test_predict_tta_averages_views():
    x = torch.rand(6, 3, 8, 8)
    m = _Tiny()
    p_id = predict_tta(m, x, views=["identity"])
    torch.testing.assert_close(p_id, torch.softmax(m(x), 1))
    p_flip = predict_tta(m, x, views=["hflip"])
    torch.testing.assert_close(p_flip, torch.softmax(m(torch.flip(x, [-1])), 1))
    torch.testing.assert_close(predict_tta(m, x, views="flips"), (p_id + p_flip) / 2)
    p = predict_tta(m, x.numpy(), views="flips+shifts", batch_size=4)
    assert p.shape == (6, 2)
    torch.testing.assert_close(p.sum(1), torch.ones(6))
    with pytest.raises(ValueError, match="unknown TTA view"):
        predict_tta(m, x, views=["rotate"])


def test_predict_tta_restores_training_mode_and_shift_view():
    from coursekit.data.tta import TTA_VIEWS
    m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2))
    m.train()
    predict_tta(m, torch.rand(2, 3, 2, 2))
    assert m.training
    x = torch.arange(16.0).view(1, 1, 4, 4)
    right = TTA_VIEWS["shift_right"](x)
    assert torch.equal(right[..., 2:], x[..., :2]) and torch.equal(right[..., 0], x[..., 0])
    down = TTA_VIEWS["shift_down"](x)
    assert torch.equal(down[..., 2:, :], x[..., :2, :])
    assert torch.equal(TTA_VIEWS["shift_left"](x)[..., :2], x[..., 2:])
