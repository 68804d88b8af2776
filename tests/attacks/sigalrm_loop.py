"""An endless loop that also blocks the per-cell alarm (SIGALRM ignored, timer cleared):
only the whole-notebook wall clock stops it. Fair outcome: "timeout" and zero."""
BASE = "honest"
WHERE = "end"
CELL = r'''
import signal
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGVTALRM):
    signal.signal(s, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
while True:
    signal.setitimer(signal.ITIMER_REAL, 0)
'''
EXPECT = {"status": "timeout", "score": 0, "tampered": False}
