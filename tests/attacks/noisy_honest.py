"""An honest solution whose graded functions print, warn, log and write to stderr on every
call (what torch, tqdm and logging do). Output never costs points: honest score."""
BASE = "honest"
ASSIGNMENTS = "all"
WHERE = "end"
CELL = r'''
import functools, logging, sys, warnings
logging.basicConfig(level=logging.DEBUG)
def _noisy(f):
    @functools.wraps(f)
    def wrapper(*a, **k):
        print("calling", f.__name__, a, k)
        print("WARNING: something odd", file=sys.stderr)
        warnings.warn("deprecated thing", DeprecationWarning)
        logging.getLogger("student").warning("a log line")
        return f(*a, **k)
    return wrapper
for _name in {{FUNCS}}:
    globals()[_name] = _noisy(globals()[_name])
'''
EXPECT = {"status": "graded", "score": "max", "tampered": False}
