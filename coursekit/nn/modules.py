"""Small module layer over the layer functions, so a network is a few lines.

Every module has

- ``forward(x) -> out`` (also ``module(x)``), which keeps what backward needs;
- ``backward(dout) -> dx``, which fills ``self.grads`` (same keys and shapes as ``params``);
- ``params``: dict name -> array, ``grads``: dict name -> array (empty for parameter-free
  modules); optimizers update ``params`` arrays **in place**;
- ``training`` (bool) switched by ``train()`` / ``eval()``, for modules that behave
  differently at test time (Dropout, BatchNorm).

Parameter names and layouts (what ``numpy_to_torch`` copies):

=========  =====================================  ==================================
module     params                                 torch equivalent
=========  =====================================  ==================================
Conv2d     ``w: (F, C, HH, WW)``, ``b: (F,)``     ``nn.Conv2d.weight``, ``.bias`` (same layout)
Linear     ``w: (D, M)``, ``b: (M,)``             ``nn.Linear.weight = w.T``, ``.bias = b``
=========  =====================================  ==================================

``Sequential`` exposes its children's parameters as ``"<index>.<name>"`` (``"0.w"``,
``"3.b"``), the same indices as torch's ``nn.Sequential`` state_dict (``"0.weight"``).
A new module (e.g. BatchNorm in its own file) subclasses :class:`Module`, stores its
arrays in ``self.params`` and writes ``self.grads`` in ``backward``; buffers that are not
trained (running means) go in ``self.buffers``.
"""
from __future__ import annotations

import numpy as np

from .activations import relu_backward, relu_forward
from .conv import conv2d_backward, conv2d_forward
from .linear import linear_backward, linear_forward
from .pool import avgpool2d_backward, avgpool2d_forward, maxpool2d_backward, maxpool2d_forward


class Module:
    """Base class: ``params``/``grads`` dicts, ``training`` flag, ``forward``/``backward``."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True
        self._cache = None

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def train(self, mode: bool = True):
        """Switch to training (``mode=True``) or evaluation behaviour; returns self."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Switch to evaluation behaviour; returns self."""
        return self.train(False)

    def zero_grad(self):
        """Set every gradient to zeros of its parameter's shape."""
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def _need_cache(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._cache

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        return ""


def _rng(seed_or_rng):
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    return np.random.default_rng(seed_or_rng)


class Conv2d(Module):
    """Convolution module. params ``w: (F, C, HH, WW)``, ``b: (F,)`` (torch's layout).

    Weights are He-initialised (std = sqrt(2 / (C*HH*WW))), biases zero.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, method: str = "fast", rng=None, dtype=np.float64):
        super().__init__()
        k = kernel_size
        fan_in = in_channels * k * k
        r = _rng(rng)
        self.params["w"] = (r.standard_normal((out_channels, in_channels, k, k))
                            * np.sqrt(2.0 / fan_in)).astype(dtype)
        self.params["b"] = np.zeros(out_channels, dtype=dtype)
        self.stride, self.padding, self.method = stride, padding, method

    def forward(self, x):
        out, self._cache = conv2d_forward(x, self.params["w"], self.params["b"],
                                          self.stride, self.padding, self.method)
        return out

    def backward(self, dout):
        dx, self.grads["w"], self.grads["b"] = conv2d_backward(dout, self._need_cache())
        return dx

    def extra_repr(self):
        F, C, k, _ = self.params["w"].shape
        return f"{C}, {F}, kernel_size={k}, stride={self.stride}, padding={self.padding}"


class Linear(Module):
    """Affine module on flattened input. params ``w: (D, M)``, ``b: (M,)`` (torch weight = w.T).

    Weights are He-initialised (std = sqrt(2 / D)), biases zero.
    """

    def __init__(self, in_features: int, out_features: int, rng=None, dtype=np.float64):
        super().__init__()
        r = _rng(rng)
        self.params["w"] = (r.standard_normal((in_features, out_features))
                            * np.sqrt(2.0 / in_features)).astype(dtype)
        self.params["b"] = np.zeros(out_features, dtype=dtype)

    def forward(self, x):
        out, self._cache = linear_forward(x, self.params["w"], self.params["b"])
        return out

    def backward(self, dout):
        dx, self.grads["w"], self.grads["b"] = linear_backward(dout, self._need_cache())
        return dx

    def extra_repr(self):
        D, M = self.params["w"].shape
        return f"{D}, {M}"


class ReLU(Module):
    """Elementwise max(0, x)."""

    def forward(self, x):
        out, self._cache = relu_forward(x)
        return out

    def backward(self, dout):
        return relu_backward(dout, self._need_cache())


class MaxPool2d(Module):
    """Max pooling (no padding); ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: int = 2, stride: int | None = None, method: str = "fast"):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.method = method

    def forward(self, x):
        out, self._cache = maxpool2d_forward(x, self.kernel_size, self.stride, self.method)
        return out

    def backward(self, dout):
        return maxpool2d_backward(dout, self._need_cache())

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(MaxPool2d):
    """Average pooling (no padding); ``stride`` defaults to ``kernel_size``."""

    def forward(self, x):
        out, self._cache = avgpool2d_forward(x, self.kernel_size, self.stride, self.method)
        return out

    def backward(self, dout):
        return avgpool2d_backward(dout, self._need_cache())


class Flatten(Module):
    """(N, d1, ..., dk) -> (N, d1*...*dk)."""

    def forward(self, x):
        x = np.asarray(x)
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return np.asarray(dout).reshape(self._need_cache())


class Sequential(Module):
    """Modules applied in order; backward runs them in reverse.

    ``params``/``grads`` are dicts built on access with keys ``"<index>.<name>"`` whose
    values are the children's own arrays (so in-place updates reach the children).
    """

    def __init__(self, *layers: Module):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential item {i} must be a coursekit.nn Module, "
                                f"got {type(layer).__name__}")
        self.layers = list(layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def _collect(self, attr):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in getattr(layer, attr).items()}

    @property
    def params(self):
        return self._collect("params")

    @params.setter
    def params(self, value):  # Module.__init__ assigns {}; children hold the real arrays
        pass

    @property
    def grads(self):
        return self._collect("grads")

    @grads.setter
    def grads(self, value):
        pass

    @property
    def buffers(self):
        return self._collect("buffers")

    @buffers.setter
    def buffers(self, value):
        pass

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def train(self, mode: bool = True):
        self.training = bool(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def zero_grad(self):
        for layer in self.layers:
            layer.zero_grad()

    def predict(self, x, batch_size: int = 256):
        """Class predictions ``argmax(forward(x))`` in evaluation mode, batch by batch."""
        was = self.training
        self.train(False)
        try:
            preds = [self.forward(x[i:i + batch_size]).argmax(axis=1)
                     for i in range(0, len(x), batch_size)]
        finally:
            self.train(was)
        return np.concatenate(preds) if preds else np.zeros(0, dtype=np.int64)

    def __repr__(self):
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"


def lesson_cnn(in_channels: int = 3, num_classes: int = 10, size: int = 32,
               channels=(8, 16), rng=None, method: str = "fast", dtype=np.float64,
               final_scale: float = 0.1) -> Sequential:
    """The lesson-04 network: ``[Conv3x3(pad 1) - ReLU - MaxPool2] x len(channels) - Flatten - Linear``.

    Input ``(N, in_channels, size, size)``; each block halves the spatial size (floor), so
    the classifier sees ``channels[-1] * (size // 2**len(channels))**2`` features.
    The classifier's He-initialised weights are multiplied by ``final_scale`` so that the
    initial scores are small and the initial loss is close to ``ln(num_classes)``.
    """
    r = _rng(rng)
    layers, c, s = [], in_channels, size
    for f in channels:
        layers += [Conv2d(c, f, 3, padding=1, method=method, rng=r, dtype=dtype), ReLU(),
                   MaxPool2d(2, method=method)]
        c, s = f, s // 2
    if s < 1:
        raise ValueError(f"size={size} is too small for {len(channels)} pooling blocks")
    head = Linear(c * s * s, num_classes, rng=r, dtype=dtype)
    head.params["w"] *= final_scale
    layers += [Flatten(), head]
    return Sequential(*layers)
