"""Read the grader's request (hidden test inputs) from stdin while the cells run, hand it
back so grading still works, and smuggle the hidden inputs out in an error message that the
feedback shows. Fair outcome: graded with the honest score, and NO hidden input in anything
the student gets back (the test checks the feedback)."""
BASE = "honest"
WHERE = "end"
CELL = r'''
import gc, json, os
data = b""
while True:
    chunk = os.read(0, 1 << 20)
    if not chunk:
        break
    data += chunk
replay = [data]
for obj in gc.get_objects():
    if isinstance(obj, dict) and obj.get("_read") is os.read:
        obj["_read"] = lambda fd, n: replay.pop() if replay else b""
leak = []
try:
    from coursekit.grading import wire
    for case in wire.unpack(data, allow_refs=True)["cases"]:
        for step in case["steps"]:
            leak.append([step["fn"], [a for a in step["args"] if isinstance(a, (int, float, str))]])
except Exception as e:
    leak.append(repr(e))
raise RuntimeError("LEAK:" + json.dumps(leak[-12:]))
'''
EXPECT = {"status": "graded", "score": "max", "tampered": False, "no_leak": True}
