"""Leave a detached process (double fork + setsid, signals ignored) that keeps trying, for
20 s, to rewrite the gradebook and a later student's submission. Fair outcome: the honest
score (the attack costs nothing but achieves nothing); the test re-checks every target
after the batch."""
BASE = "honest"
WHERE = "end"
CELL = r'''
import os, signal, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        end = time.time() + 20
        while time.time() < end:
            for path in ({{GRADEBOOK}}, {{VICTIM}} + "/" + {{ASSIGNMENT}} + ".ipynb"):
                try:
                    with open(path, "w") as f:
                        f.write("owned")
                except OSError:
                    pass
            time.sleep(0.05)
        os._exit(0)
    os._exit(0)
os.wait()
'''
EXPECT = {"status": "graded", "score": "max", "tampered": False}
