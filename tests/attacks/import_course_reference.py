"""Delegate every graded function to the course package's own reference implementations
(coursekit.nn: conv2d_forward/backward, maxpool2d_forward/backward, numerical_gradient),
which are importable inside the grading child. Fair outcome for an assignment that asks the
student to implement them: the blank submission's score."""
BASE = "blank"
WHERE = "end"
ASSIGNMENTS = ("a2_numpy_conv",)
CELL = r'''
import numpy as np
import coursekit.nn as cnn
def conv_forward_naive(x, w, b, stride=1, padding=0):
    return cnn.conv2d_forward(x, w, b, stride=stride, padding=padding)
def conv_backward_naive(dout, cache):
    return cnn.conv2d_backward(dout, cache)
conv_forward_fast, conv_backward_fast = conv_forward_naive, conv_backward_naive
def maxpool_forward_naive(x, kernel_size=2, stride=2):
    return cnn.maxpool2d_forward(x, kernel_size, stride)
def maxpool_backward_naive(dout, cache):
    return cnn.maxpool2d_backward(dout, cache)
def numerical_gradient(f, x, dout, h=1e-5):
    return cnn.numerical_gradient(f, x, dout, h=h)
def gradcheck_example(x, dout, h=1e-5):
    return numerical_gradient(lambda v: np.sin(v) * v ** 2, x, dout, h)
'''
EXPECT = {"status": "graded", "score": "base", "tampered": False}
