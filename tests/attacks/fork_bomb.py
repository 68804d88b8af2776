"""A fork bomb after the answers (every child keeps forking): bounded by the process limit;
the cell is stopped by its time limit, the children die with the sandbox: honest score."""
BASE = "honest"
WHERE = "end"
CELL = r'''
import os, time
end = time.time() + 3
while time.time() < end:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
'''
EXPECT = {"status": "graded", "score": "max", "tampered": False}
