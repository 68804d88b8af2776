"""Every graded function returns an object equal to everything (__eq__ always True, hashes
and converts like anything). Fair outcome: blank's score (only plain data is compared)."""
BASE = "blank"
ASSIGNMENTS = "all"
WHERE = "end"
CELL = r'''
class Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
    def __bool__(self): return True
    def __len__(self): return 2
    def __iter__(self): return iter([Anything(), Anything()])
    def __getitem__(self, i): return Anything()
    def __array__(self, *a, **k): raise TypeError("no")
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
for _name in {{FUNCS}}:
    globals()[_name] = lambda *a, **k: Anything()
'''
EXPECT = {"status": "graded", "score": "base", "tampered": False}
