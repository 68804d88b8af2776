"""Grading spec for a5_visualization (instructor only, never released).

Models travel as their seed (coursekit.grading.fixtures.tiny_cnn builds the same weights
everywhere); images, targets, patch sizes, strides and layers are drawn from ``rng`` (the
instructor's secret seed). Grad-CAM cases are kept only when the reference map is not flat
(a flat map would hide mistakes and make partial credit depend on the seed); that check runs
here, in the trusted process. Expected maps are the reference solution's.
"""
import numpy as np

from coursekit.grading.spec import Close, Test, call

TOL = Close(rtol=1e-6, atol=1e-9)
LAYERS = ("relu2", "conv2", "pool1")  # all 8 x 8: Grad-CAM upsamples them
LAYER_FAMILIES = {"relu2": "layer relu2", "conv2": "layer conv2 (before its ReLU)", "pool1": "layer pool1"}


def _cam_is_informative(seed, layer, x, target) -> bool:
    """True when ReLU(sum_k w_k A_k) at ``layer`` is positive somewhere and not constant."""
    import torch

    from coursekit.grading.fixtures import tiny_cnn

    model = tiny_cnn(seed)
    store = {}
    handle = dict(model.named_modules())[layer].register_forward_hook(lambda m, i, o: store.update(a=o))
    try:
        scores = model(torch.from_numpy(x))
    finally:
        handle.remove()
    (grads,) = torch.autograd.grad(scores[0, target], store["a"])
    cam = torch.relu((grads.mean(dim=(2, 3), keepdim=True) * store["a"]).sum(dim=1))
    return bool(cam.max() > 1e-6) and bool(cam.max() - cam.min() > 1e-6)


def occlusion_cases(rng, count):
    cases = []
    for i in range(count):
        patch, stride = [(4, 4), (4, 2), (8, 4), (2, 2)][i % 4]
        x = rng.random((1, 3, 16, 16))
        family = "patches side by side (stride = patch)" if stride == patch else "overlapping patches (stride < patch)"
        cases.append(call("occlusion_for", int(rng.integers(0, 10**6)), x, int(rng.integers(0, 5)),
                          patch=patch, stride=stride, family=family))
    return cases


def grad_cam_cases(rng, count):
    cases = []
    while len(cases) < count:
        seed, x, target = int(rng.integers(0, 10**6)), rng.random((1, 3, 16, 16)), int(rng.integers(0, 5))
        layer = LAYERS[len(cases) % len(LAYERS)]
        if _cam_is_informative(seed, layer, x, target):
            cases.append(call("grad_cam_for", seed, layer, x, target, family=LAYER_FAMILIES[layer]))
    return cases


def tests(rng, fast):
    """The 10 points of a5."""
    x0 = np.random.default_rng(0).random((1, 3, 16, 16))
    return [
        Test("test_occlusion", 2, [call("occlusion_for", 0, x0, target=1, patch=4, stride=4)], compare=TOL),
        Test("hidden_occlusion", 3, occlusion_cases(rng, 4), hidden=True, compare=TOL),
        Test("test_grad_cam", 2, [call("grad_cam_for", 0, "relu2", x0, target=2)], compare=TOL),
        Test("hidden_grad_cam", 3, grad_cam_cases(rng, 4), hidden=True, compare=TOL),
    ]
