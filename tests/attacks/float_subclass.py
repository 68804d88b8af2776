"""Graded functions return int/float subclasses whose comparisons are always True and
whose __int__/__float__ lie. Fair outcome: blank's score."""
BASE = "blank"
ASSIGNMENTS = "all"
WHERE = "end"
CELL = r'''
class Liar(int):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = int.__hash__
class FLiar(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __abs__(self): return 0.0
    def __sub__(self, other): return FLiar(0.0)
    __rsub__ = __sub__
    __hash__ = float.__hash__
for _name in {{FUNCS}}:
    globals()[_name] = lambda *a, **k: (Liar(-7), FLiar(float("nan")))[k.get("_f", 0)]
'''
EXPECT = {"status": "graded", "score": "base", "tampered": False}
