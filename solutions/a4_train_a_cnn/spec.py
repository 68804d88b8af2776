"""Grading spec for a4_train_a_cnn (instructor only, never released).

The student's notebook trains in the sandbox; the grader then calls ``predict`` on validation
images and on a test set generated here, in the trusted process, with a seed drawn from the
instructor's secret seed. The true labels never leave this process: the child only sees images.
"""
from coursekit import data
from coursekit.grading.compare import Accuracy
from coursekit.grading.spec import Test, call


def tests(rng, fast):
    """The 9 points of a4 (thresholds lower in fast mode, where training is shorter)."""
    classes = 4 if fast else 10
    n = 400 if fast else 1000
    opts = {"difficulty": "easy", "num_classes": classes}
    x_val, y_val = data.load("shapes", "val", n=n, **opts)
    x_test, y_test = data.load("shapes", "test", n=n, seed=int(rng.integers(1, 2**31)), **opts)
    full, half = (0.6, 0.4) if fast else (0.75, 0.5)
    levels = Accuracy(((full, 1.0), (half, 0.5)))
    return [
        Test("test_predict_shape", 1, [call("predict", x_val[:5], expected=[y_val[:5]], label="predict(x_val[:5])")],
             compare=Accuracy(((0.0, 1.0),))),
        Test("test_val_accuracy", 2, [call("predict", x_val, expected=[y_val], label="predict(x_val)")],
             compare=levels),
        Test("hidden_test_accuracy", 6, [call("predict", x_test, expected=[y_test], label="predict(hidden test set)",
                                              family="a freshly generated test set")],
             hidden=True, compare=levels),
    ]
