"""Forge the grading protocol from a cell: send a fake "cells" frame (the grader then sends
the visible request), a fake "part_done" (it then sends the HIDDEN request), read both from
stdin, hand them back to the child's reader so grading still works, and smuggle the hidden
inputs out in a cell error that the feedback shows. Fair outcome: the honest score and no
hidden input in anything the student gets back."""
BASE = "honest"
WHERE = "end"
CELL = r'''
import gc, json, os, struct
from coursekit.grading import wire
fd = int(os.environ.get("COURSEKIT_RESULT_FD", "3"))
def send(obj):
    os.write(fd, wire.frame(wire.pack(obj)))
def read_exact(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            return None
        data += chunk
    return data
def read_frame():
    head = read_exact(12)
    if head is None:
        return None
    body = read_exact(struct.unpack(">Q", head[4:])[0])
    return None if body is None else head + body
send({"kind": "cells", "errors": []})
frames = [read_frame()]
send({"kind": "part_done"})
frames.append(read_frame())
replay = bytearray(b"".join(f for f in frames if f))
def fake_read(fd_, n):
    if fd_ == 0 and replay:
        out = bytes(replay[:n]); del replay[:n]; return out
    return os.read(fd_, n) if fd_ != 0 else b""
for obj in gc.get_objects():
    if isinstance(obj, dict) and obj.get("_read") is os.read:
        obj["_read"] = fake_read
leak = []
for f in frames[1:]:
    if f:
        for case in wire.unpack(f[12:], allow_refs=True)["cases"]:
            for step in case["steps"]:
                leak.append([step["fn"], [a for a in step["args"] if isinstance(a, (int, float, str))]])
raise RuntimeError("LEAK:" + json.dumps(leak[:3]))
'''
EXPECT = {"status": "graded", "score": "max", "tampered": False, "no_leak": True}
