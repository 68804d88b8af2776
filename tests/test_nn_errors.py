"""Bad input to coursekit.nn gets a clear ValueError/TypeError naming the shapes."""
import numpy as np
import pytest

from coursekit import nn


def test_conv_channel_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"channel mismatch.*\(2, 3, 5, 5\).*\(4, 2, 3, 3\)"):
        nn.conv2d_forward(np.zeros((2, 3, 5, 5)), np.zeros((4, 2, 3, 3)), np.zeros(4))


def test_conv_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"kernel_size=7 is larger than the padded input \(4 \+ 2\*1 = 6\)"):
        nn.conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 7, 7)), np.zeros(1), padding=1)


@pytest.mark.parametrize("shape", [(3, 5, 5), (5, 5), (1, 1, 1, 5, 5)])
def test_conv_non_4d(shape):
    with pytest.raises(ValueError, match=r"4-D.*" + re_shape(shape)):
        nn.conv2d_forward(np.zeros(shape), np.zeros((1, 1, 3, 3)), np.zeros(1))


def re_shape(shape):
    return r"\(" + r", ".join(map(str, shape)) + (r",\)" if len(shape) == 1 else r"\)")


def test_conv_bad_bias_stride_padding_method():
    x, w = np.zeros((1, 2, 5, 5)), np.zeros((3, 2, 3, 3))
    with pytest.raises(ValueError, match=r"b must have shape \(F,\) = \(3,\)"):
        nn.conv2d_forward(x, w, np.zeros(2))
    with pytest.raises(ValueError, match="stride"):
        nn.conv2d_forward(x, w, np.zeros(3), stride=0)
    with pytest.raises(ValueError, match="padding"):
        nn.conv2d_forward(x, w, np.zeros(3), padding=-1)
    with pytest.raises(ValueError, match="method"):
        nn.conv2d_forward(x, w, np.zeros(3), method="slow")


def test_backward_with_wrong_dout_shape():
    out, cache = nn.conv2d_forward(np.zeros((1, 2, 5, 5)), np.zeros((3, 2, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"\(1, 3, 3, 3\)"):
        nn.conv2d_backward(np.zeros((1, 3, 4, 4)), cache)


def test_pool_errors():
    with pytest.raises(ValueError, match="4-D"):
        nn.maxpool2d_forward(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="kernel_size=5 is larger"):
        nn.avgpool2d_forward(np.zeros((1, 1, 4, 4)), kernel_size=5, stride=1)


def test_linear_and_loss_errors():
    with pytest.raises(ValueError, match=r"flattens to D=12.*\(10, 3\)"):
        nn.linear_forward(np.zeros((2, 3, 4)), np.zeros((10, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"y must have shape \(N,\) = \(3,\)"):
        nn.softmax_cross_entropy(np.zeros((3, 4)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        nn.softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 4]))
    with pytest.raises(TypeError, match="x must be"):
        nn.relu_forward(object())


def test_module_errors():
    with pytest.raises(RuntimeError, match="before forward"):
        nn.ReLU().backward(np.zeros(3))
    with pytest.raises(TypeError, match="Sequential item 1"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    with pytest.raises(ValueError, match="lr"):
        nn.SGD({"w": np.zeros(2)}, lr=0)
