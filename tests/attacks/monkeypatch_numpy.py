"""Monkeypatch numpy and np.testing so every comparison "passes" (wins full marks in plain
nbgrader). Fair outcome: the blank submission's score, graded."""
BASE = "blank"
ASSIGNMENTS = "all"
WHERE = "start"
CELL = r'''
import numpy as np
import numpy.testing as npt
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
np.array_equal = lambda *a, **k: True
np.all = lambda *a, **k: True
npt.assert_allclose = lambda *a, **k: None
npt.assert_array_equal = lambda *a, **k: None
npt.assert_almost_equal = lambda *a, **k: None
np.testing = npt
'''
EXPECT = {"status": "graded", "score": "base", "tampered": False}
