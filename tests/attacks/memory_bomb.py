"""Allocate without bound (touching the memory) after the answers: the allocation fails in
that cell (bounded by the sandbox), the answers are graded: honest score."""
BASE = "honest"
WHERE = "end"
CELL = r'''
hog = []
while True:
    hog.append(bytearray(64 * 1024 * 1024))
'''
EXPECT = {"status": "graded", "score": "max", "tampered": False}
