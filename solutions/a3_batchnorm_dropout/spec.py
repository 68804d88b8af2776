"""Grading spec for a3_batchnorm_dropout (instructor only, never released).

Hidden inputs come from ``rng`` (the instructor's secret seed) in fixed families (the labels
feedback shows: training step vs evaluation mode, dx vs dgamma/dbeta, dropout at p = 0.5 vs
other p vs evaluation mode) so that a given mistake always loses the
same share of points. Expected outputs are the reference solution's on the same inputs.
"""
import numpy as np

from coursekit.grading.spec import Close, Ref, Step, Test, call, chain

TOL = Close(rtol=1e-6, atol=1e-8)


def _bn_inputs(rng):
    n, d = int(rng.integers(2, 9)), int(rng.integers(1, 7))
    x = rng.normal(rng.uniform(-3, 3), rng.uniform(0.5, 3), size=(n, d))
    return (x, rng.uniform(0.5, 2, d), rng.normal(0, 1, d), rng.normal(0, 1, d), rng.uniform(0.5, 2, d))


def bn_forward_cases(rng):
    cases = []
    for _ in range(4):
        x, g, b, rm, rv = _bn_inputs(rng)
        cases.append(call("batchnorm_train_step", x, g, b, rm, rv, momentum=float(rng.uniform(0.05, 0.5)),
                          family="training step (output and running statistics)"))
    for _ in range(2):
        x, g, b, rm, rv = _bn_inputs(rng)
        cases.append(call("batchnorm_eval", x, g, b, rm, rv, family="evaluation mode"))
    return cases


def bn_backward_case(x, g, b, dout, returns=((1, 0), (1, 1), (1, 2)), family=""):
    state = {"running_mean": np.zeros(x.shape[1]), "running_var": np.ones(x.shape[1])}
    return chain(Step("batchnorm_forward", (x, g, b, state), {"train": True}),
                 Step("batchnorm_backward", (dout, Ref(0, 1))), returns=list(returns), family=family)


def bn_backward_cases(rng):
    """dx and (dgamma, dbeta) graded apart: a dx that forgets the gradient through the batch
    mean and variance fails only "dx"."""
    cases = []
    for family, returns in (("dx", [(1, 0)]), ("dgamma and dbeta", [(1, 1), (1, 2)])):
        for _ in range(3):
            x, g, b, _, _ = _bn_inputs(rng)
            cases.append(bn_backward_case(x, g, b, rng.standard_normal(x.shape), returns, family))
    return cases


def dropout_cases(rng, backward, families):
    """One case per entry of ``families``: "training mode p = 0.5" (where keeping with
    probability p and dropping with probability p scale alike), "training mode p != 0.5",
    "evaluation mode"."""
    cases = []
    for family in families:
        train = family.startswith("training")
        shape = (int(rng.integers(1, 5)), int(rng.integers(2, 7)))
        x = rng.standard_normal(shape)
        p = 0.5 if family.endswith("p = 0.5") else float(rng.choice([0.1, 0.25, 0.8]))
        seed = int(rng.integers(0, 2**31))
        while not (np.random.default_rng(seed).random(shape) >= p).any():  # keep >= 1 unit
            seed = int(rng.integers(0, 2**31))
        if backward:
            cases.append(chain(Step("dropout_forward", (x, p, train, seed)),
                               Step("dropout_backward", (rng.standard_normal(shape), Ref(0, 1))),
                               returns=[(1,)], family=family))
        else:
            cases.append(call("dropout_forward", x, p, train, seed, pick=0, family=family))
    return cases


TRAIN_HALF, TRAIN_OTHER, EVAL = "training mode p = 0.5", "training mode p != 0.5", "evaluation mode"


def visible():
    rng = np.random.default_rng(0)
    x = rng.normal(3, 2, size=(5, 3))
    g, b = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 1.0])
    dout = rng.standard_normal((5, 3))
    xd = np.arange(1.0, 13.0).reshape(3, 4)
    dout_d = np.linspace(-1, 1, 12).reshape(3, 4)
    return {
        "test_batchnorm_forward": [call("batchnorm_train_step", x, g, b, np.zeros(3), np.ones(3), momentum=0.1)],
        "test_batchnorm_backward": [bn_backward_case(x, g, b, dout)],
        "test_dropout_forward": [call("dropout_forward", xd, 0.5, True, 42, pick=0),
                                 call("dropout_forward", xd, 0.5, False, 42, pick=0)],
        "test_dropout_backward": [chain(Step("dropout_forward", (xd, 0.5, True, 42)),
                                        Step("dropout_backward", (dout_d, Ref(0, 1))), returns=[(1,)])],
    }


def tests(rng, fast):
    """The 16 points of a3."""
    v = visible()
    return [
        Test("test_batchnorm_forward", 2, v["test_batchnorm_forward"], compare=TOL),
        Test("hidden_batchnorm_forward", 3, bn_forward_cases(rng), hidden=True, compare=TOL),
        Test("test_batchnorm_backward", 2, v["test_batchnorm_backward"], compare=TOL),
        Test("hidden_batchnorm_backward", 3, bn_backward_cases(rng), hidden=True, compare=TOL),
        Test("test_dropout_forward", 1, v["test_dropout_forward"], compare=TOL),
        Test("hidden_dropout_forward", 2, dropout_cases(rng, False, (TRAIN_HALF, TRAIN_OTHER, TRAIN_OTHER, EVAL)),
             hidden=True, compare=TOL),
        Test("test_dropout_backward", 1, v["test_dropout_backward"], compare=TOL),
        Test("hidden_dropout_backward", 2, dropout_cases(rng, True, (TRAIN_HALF, TRAIN_OTHER, TRAIN_OTHER)),
             hidden=True, compare=TOL),
    ]
