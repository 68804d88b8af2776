"""Replace coursekit's assertion helpers and comparison classes, in the module and in
sys.modules, with always-pass versions. Fair outcome: the wrong submission's score."""
BASE = "wrong"
ASSIGNMENTS = "all"
WHERE = "start"
CELL = r'''
import sys
import coursekit.grading.compare as cmp
cmp.assert_close = lambda *a, **k: None
cmp.assert_equal = lambda *a, **k: None
for name in dir(cmp):
    obj = getattr(cmp, name)
    if isinstance(obj, type) and hasattr(obj, "score"):
        obj.score = lambda self, *a, **k: (1.0, "")
assert_close = assert_equal = lambda *a, **k: None
for mod in list(sys.modules.values()):
    if getattr(mod, "assert_equal", None) is not None:
        try:
            mod.assert_equal = mod.assert_close = lambda *a, **k: None
        except Exception:
            pass
'''
EXPECT = {"status": "graded", "score": "base", "tampered": False}
