"""coursekit.transfer and coursekit.pretrain: shipped weights, the torchvision loader
offline (hub cache in a temporary TORCH_HOME), freezing, features and the baselines."""
import urllib.error

import numpy as np
import pytest
import torch
import torchvision

from coursekit import pretrain, transfer


def test_shipped_source_cnn_is_converged_and_small():
    assert pretrain.WEIGHTS.exists(), "commit coursekit/weights/source_cnn.pt"
    assert pretrain.WEIGHTS.stat().st_size <= 2_000_000
    m = transfer.load_source_cnn()
    assert m.meta["classes"] == list(pretrain.SOURCE_CLASSES)
    assert m.meta["val_accuracy"] >= 0.95          # measured when it was trained
    x, y = pretrain.source_data("val", pretrain.SOURCE["n_val"])
    with torch.no_grad():
        acc = (m(x).argmax(1) == y).float().mean().item()
    assert acc == pytest.approx(m.meta["val_accuracy"], abs=1e-6)


def test_source_and_target_classes_are_disjoint_halves():
    from coursekit.data.shapes import SHAPES_CLASSES
    assert set(pretrain.SOURCE_CLASSES).isdisjoint(pretrain.TARGET_CLASSES)
    assert set(pretrain.SOURCE_CLASSES) | set(pretrain.TARGET_CLASSES) == set(SHAPES_CLASSES)
    x, y = pretrain.shapes_subset(pretrain.TARGET_CLASSES, "val", 50, seed=3)
    assert x.shape == (50, 3, 32, 32) and set(np.unique(y)) <= set(range(5))
    with pytest.raises(ValueError, match="classes"):
        pretrain.shapes_subset(("hexagon",), "val", 5)


@pytest.mark.slow
def test_rebuild_matches_the_shipped_source_cnn(tmp_path):
    """`python -m coursekit.pretrain` rebuilds the shipped file: same accuracy (and, with the
    same torch version and thread count, the same weights bit for bit)."""
    shipped = torch.load(pretrain.WEIGHTS, weights_only=True)
    meta = pretrain.pretrain(tmp_path / "rebuilt.pt", progress=False)
    assert meta["val_accuracy"] >= 0.95
    assert meta["val_accuracy"] == pytest.approx(shipped["meta"]["val_accuracy"], abs=0.01)
    if meta["torch"] == shipped["meta"]["torch"]:
        rebuilt = torch.load(tmp_path / "rebuilt.pt", weights_only=True)["state_dict"]
        same = all(torch.equal(rebuilt[k], v) for k, v in shipped["state_dict"].items())
        assert same or abs(meta["val_accuracy"] - shipped["meta"]["val_accuracy"]) <= 0.01


def test_pretrain_is_reproducible(tmp_path):
    threads = torch.get_num_threads()
    a = pretrain.pretrain(tmp_path / "a.pt", n_train=64, n_val=32, epochs=1, progress=False)
    pretrain.pretrain(tmp_path / "b.pt", n_train=64, n_val=32, epochs=1, progress=False)
    assert torch.get_num_threads() == threads          # pinned only during the run
    sa = torch.load(tmp_path / "a.pt", weights_only=True)["state_dict"]
    sb = torch.load(tmp_path / "b.pt", weights_only=True)["state_dict"]
    for k in sa:
        torch.testing.assert_close(sa[k], sb[k], rtol=0, atol=0)
    assert a["source"]["n_train"] == 64
    with pytest.raises(FileExistsError):
        pretrain.pretrain(tmp_path / "a.pt", n_train=8, n_val=8, epochs=1, progress=False)


def test_missing_source_weights_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m coursekit.pretrain"):
        transfer.load_source_cnn(tmp_path / "none.pt")


def test_resnet18_loads_from_hub_cache_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    url = torchvision.models.ResNet18_Weights.DEFAULT.url
    ref = torchvision.models.resnet18(weights=None)
    ckpt = tmp_path / "hub" / "checkpoints" / url.rsplit("/", 1)[1]
    ckpt.parent.mkdir(parents=True)
    torch.save(ref.state_dict(), ckpt)

    def no_network(*a, **k):
        raise AssertionError("must not download when the file is cached")
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    m = transfer.resnet18_pretrained()
    for k, v in ref.state_dict().items():
        torch.testing.assert_close(m.state_dict()[k], v)
    assert not m.training


def test_resnet18_offline_names_embedded_alternative(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*a, **k):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(transfer.PretrainedUnavailableError, match="load_source_cnn") as e:
        transfer.resnet18_pretrained()
    assert "ResNet18_Weights.DEFAULT" in str(e.value)
    # a corrupt cache file is reported the same way, never used
    url = torchvision.models.ResNet18_Weights.DEFAULT.url
    bad = tmp_path / "hub" / "checkpoints" / url.rsplit("/", 1)[1]
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(transfer.PretrainedUnavailableError, match="load_source_cnn"):
        transfer.resnet18_pretrained()


def test_target_data_small_balanced_sets():
    x, y = transfer.target_data("train", n_per_class=5, size=16)
    assert x.shape == (50, 3, 16, 16) and x.min() >= 0 and x.max() <= 1
    np.testing.assert_array_equal(np.bincount(y.numpy()), [5] * 10)
    xs, ys = transfer.target_data("train", n_per_class=3, dataset="shapes-new")
    assert xs.shape == (15, 3, 32, 32)
    np.testing.assert_array_equal(np.bincount(ys.numpy()), [3] * 5)
    x2, _ = transfer.target_data("train", n_per_class=3, dataset="shapes-new", seed=1)
    assert not torch.equal(xs, x2)                       # another seed, another small set
    assert torch.equal(xs, transfer.target_data("train", n_per_class=3, dataset="shapes-new")[0])
    with pytest.raises(ValueError, match="dataset"):
        transfer.target_data(dataset="imagenet")
    with pytest.raises(ValueError, match="fewer images"):
        transfer.target_data(n_per_class=10_000)


def test_prepare_finetune_freezes_and_sets_learning_rates():
    src = transfer.load_source_cnn()
    m, opt = transfer.prepare_finetune(src, 4, unfreeze=2, lr_head=1e-2, lr_backbone=1e-4)
    blocks = transfer.conv_blocks(m)
    assert m.head.out_features == 4 and src.head.out_features == 5    # a copy
    flags = [all(p.requires_grad for mod in b for p in mod.parameters()) for b in blocks]
    assert flags == [False] * (len(blocks) - 2) + [True, True]
    assert [g["lr"] for g in opt.param_groups] == [1e-2, 1e-4]
    frozen = {k: v.clone() for k, v in m.features.state_dict().items()}
    x, y = transfer.target_data("train", n_per_class=2, size=16)
    m = transfer.train_steps(m, opt, x, y[:len(x)] % 4, steps=3)
    low = blocks[0][0].weight
    torch.testing.assert_close(low, frozen["0.weight"])                    # frozen: unchanged
    assert torch.equal(m.features[1].running_mean, frozen["1.running_mean"])  # frozen BN stats
    assert not torch.equal(blocks[-1][0].weight, frozen[f"{len(m.features) - 3}.weight"])
    m0, opt0 = transfer.prepare_finetune(src, 10, unfreeze=0)
    assert len(opt0.param_groups) == 1
    with pytest.raises(ValueError, match="unfreeze"):
        transfer.prepare_finetune(src, 10, unfreeze=99)


def test_features_and_linear_probe():
    src = transfer.load_source_cnn()
    x, y = transfer.target_data("train", n_per_class=6, size=16)
    f = transfer.extract_features(src, x)
    with torch.no_grad():
        np.testing.assert_allclose(f, src.pool(src.features(x)).numpy(), rtol=1e-5, atol=1e-6)
    h = transfer.handcrafted_features(x)
    assert h.shape == (60, 3 * 8 + 9 * 4 * 1 * 1)       # 16x16: 2x2 cells -> one 2x2 block
    assert transfer.linear_probe(h, y, h, y) > 0.9        # separable on its own training set


def test_stage_features_and_matched_steps():
    src = transfer.load_source_cnn()
    ends = transfer.stage_ends(src)
    assert list(ends) == ["stage 1", "stage 2", "stage 3"]
    x, _ = transfer.target_data("train", n_per_class=1, size=32)
    w = src.features[0].out_channels
    for (name, c) in zip(ends, (w, 2 * w, 4 * w)):
        assert transfer.stage_features(src, x, name, grid=2).shape == (10, c * 4)
    with pytest.raises(ValueError, match="stage"):
        transfer.stage_features(src, x, "stage 9")
    assert transfer.matched_steps(25, epochs=10, batch_size=32, min_steps=50) == 50
    assert transfer.matched_steps(500, epochs=10, batch_size=32, min_steps=50) == 157


@pytest.mark.slow
def test_two_by_two_runs_and_beats_chance():
    src = transfer.load_source_cnn()
    res = transfer.two_by_two(src, sizes={"little data": 2}, seeds=(0,), datasets=("digits",),
                              budget={"epochs": 1, "min_steps": 2}, progress=False)
    cell = res[("digits", "little data")]
    assert cell["images"] == 20 and cell["steps"] == 2
    assert cell[transfer.HANDCRAFTED].mean > 0.2 and cell["stage 1"].mean > 0.2
    assert "| from scratch |" in transfer.format_two_by_two(res)
    assert transfer.negative_transfer(res) in ([], [("digits", "little data")])
