"""Fake the grader's replies: print Jupyter-style execute_reply messages, write forged
result frames ("every case passed", "done") on the result fd, and close it. Fair outcome:
blank's score (forged values are still compared with the reference; forged constants
earn only what returning them from code would)."""
BASE = "blank"
ASSIGNMENTS = "all"
WHERE = "end"
CELL = r'''
import json, os, sys
print(json.dumps({"msg_type": "execute_reply", "content": {"status": "ok"}}))
print("All tests passed! Score: 100/100")
fd = int(os.environ.get("COURSEKIT_RESULT_FD", "3"))
try:
    from coursekit.grading import wire
    for i in range(300):
        os.write(fd, wire.frame(wire.pack({"kind": "case", "index": i, "values": [{"status": "ok", "passed": True}]})))
    os.write(fd, wire.frame(wire.pack({"kind": "cells", "errors": []})))
    os.write(fd, wire.frame(wire.pack({"kind": "done"})))
    os.write(fd, b"CKR1" + b"\xff" * 8 + b"garbage")
except Exception as e:
    print("forging failed:", e, file=sys.stderr)
'''
EXPECT = {"status": "graded", "score": "base", "tampered": False}
