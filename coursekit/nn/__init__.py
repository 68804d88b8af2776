"""CNN layers, optimizers and gradient checks in plain vectorized NumPy (layer 0: no torch).

Layer functions follow cs231n's convention: ``*_forward(...) -> (out, cache)`` and
``*_backward(dout, cache) -> grads``.
"""
