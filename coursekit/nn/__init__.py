"""CNN layers, optimizers and gradient checks in plain vectorized NumPy (layer 0: no torch).

Layer functions follow cs231n's convention: ``*_forward(...) -> (out, cache)`` and
``*_backward(dout, cache) -> grads``.
"""
from .activations import relu_backward, relu_forward
from .conv import conv2d_backward, conv2d_forward, conv2d_output_shape
from .gradcheck import check_layers, gradcheck, numerical_gradient, rel_error
from .im2col import col2im, im2col, window_view
from .kernels import KERNELS, apply_kernel, get_kernel, to_gray
from .linear import linear_backward, linear_forward
from .losses import softmax, softmax_cross_entropy
from .modules import (AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU,
                      Sequential, lesson_cnn)
from .optim import SGD, Adam, Optimizer, RMSProp
from .pool import avgpool2d_backward, avgpool2d_forward, maxpool2d_backward, maxpool2d_forward
from .schedules import (constant, cosine, exponential, inverse_time, linear_warmup,
                        make_schedule, one_cycle, schedule_values, step_decay)
from .trainer import History, Trainer, dataset_loss, fit_seeds, model_accuracy
from .batchnorm import (BatchNorm, BatchNorm1d, BatchNorm2d, batchnorm_backward,
                        batchnorm_forward, batchnorm_state)
from .dropout import Dropout, dropout_backward, dropout_forward
