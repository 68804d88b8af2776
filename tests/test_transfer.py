"""coursekit.transfer and coursekit.pretrain: shipped weights, the torchvision loader
offline (hub cache in a temporary TORCH_HOME), freezing, features and the baselines."""
import urllib.error

import numpy as np
import pytest
import torch
import torchvision

from coursekit import pretrain, transfer


def test_shipped_source_weights_load_and_are_small():
    assert pretrain.WEIGHTS.exists(), "commit coursekit/weights/source_cnn.pt"
    assert pretrain.WEIGHTS.stat().st_size <= 5_000_000
    m = transfer.load_source_cnn()
    assert m.meta["val_accuracy"] > 0.5           # measured when it was trained
    x, y = pretrain.source_data("val", 300)
    with torch.no_grad():
        acc = (m(x).argmax(1) == y).float().mean().item()
    assert acc > 0.5, "the shipped source CNN should recognise shapes well above chance (0.1)"


def test_pretrain_is_reproducible(tmp_path):
    a = pretrain.pretrain(tmp_path / "a.pt", n_train=64, n_val=32, epochs=1, progress=False)
    pretrain.pretrain(tmp_path / "b.pt", n_train=64, n_val=32, epochs=1, progress=False)
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
    xs, ys = transfer.target_data("train", n_per_class=3, dataset="shapes-hard")
    assert xs.shape == (30, 3, 32, 32)
    with pytest.raises(ValueError, match="dataset"):
        transfer.target_data(dataset="imagenet")


def test_prepare_finetune_freezes_and_sets_learning_rates():
    src = transfer.load_source_cnn()
    m, opt = transfer.prepare_finetune(src, 4, unfreeze=2, lr_head=1e-2, lr_backbone=1e-4)
    blocks = transfer.conv_blocks(m)
    assert m.head.out_features == 4 and src.head.out_features == 10   # a copy
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


@pytest.mark.slow
def test_compare_runs_and_beats_chance():
    src = transfer.load_source_cnn()
    tab = transfer.compare(src, sizes=(5,), steps=5, size=16, progress=False)
    row = tab[5]
    assert set(row) == {"hand-engineered (hist+HOG)", "scratch", "feature extraction", "fine-tuning"}
    assert row["feature extraction"] > 0.2 and row["hand-engineered (hist+HOG)"] > 0.2
    assert "| 5 |" in transfer.format_comparison(tab)
