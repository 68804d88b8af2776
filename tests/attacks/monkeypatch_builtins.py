"""Monkeypatch builtins and the assertion machinery: assert-raising helpers become no-ops,
AssertionError is swallowed, abs/round/isinstance/math lie. Fair outcome: blank's score."""
BASE = "blank"
ASSIGNMENTS = "all"
WHERE = "start"
CELL = r'''
import builtins, math, sys, unittest
builtins.abs = lambda x: 0
builtins.round = lambda x, n=None: x
builtins.AssertionError = type("AssertionError", (Exception,), {})
math.isclose = lambda *a, **k: True
unittest.TestCase.assertEqual = lambda *a, **k: None
unittest.TestCase.assertTrue = lambda *a, **k: None
sys.excepthook = lambda *a: None
'''
EXPECT = {"status": "graded", "score": "base", "tampered": False}
