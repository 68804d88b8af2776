"""A fork bomb after the answers: for 3 s every process keeps forking (bounded by the
sandbox's process limit), then the copies hang around (they never exit). The children die
with the sandbox; the answers are graded: honest score."""
BASE = "honest"
WHERE = "end"
CELL = r'''
import os, time
main = os.getpid()
end = time.time() + 3
while time.time() < end:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
if os.getpid() != main:
    time.sleep(3600)
'''
EXPECT = {"status": "graded", "score": "max", "tampered": False}
