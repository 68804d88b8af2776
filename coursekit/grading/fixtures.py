"""Small, deterministic models used by assignments and their grading specs (torch, lazily).

The same function builds the model in the student's notebook, in the sandboxed child and in
the trusted grader, so "the model" can travel as plain data: its seed.
"""
from __future__ import annotations


def tiny_cnn(seed: int = 0, num_classes: int = 5):
    """A tiny CNN with seeded random weights, float64, evaluation mode.

    Input (N, 3, 16, 16) -> scores (N, num_classes). Named layers: conv1, relu1, pool1
    (8 x 8 x 8), conv2, relu2 (16 x 8 x 8), gap, flatten, fc.
    """
    from collections import OrderedDict

    import torch
    from torch import nn

    gen_state = torch.random.get_rng_state()
    torch.manual_seed(int(seed))
    try:
        model = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(3, 8, 3, padding=1), relu1=nn.ReLU(), pool1=nn.MaxPool2d(2),
            conv2=nn.Conv2d(8, 16, 3, padding=1), relu2=nn.ReLU(),
            gap=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=nn.Linear(16, num_classes)))
    finally:
        torch.random.set_rng_state(gen_state)
    return model.double().eval()
