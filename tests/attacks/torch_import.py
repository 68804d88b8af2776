"""`import torch` in a NumPy-only assignment (on top of an honest solution): it fits in the
memory limit (address space is not the bound; resident memory is), the answers are graded:
honest score."""
BASE = "honest"
WHERE = "start"
CELL = r'''
import torch
x = torch.ones(3) @ torch.ones(3)
'''
EXPECT = {"status": "graded", "score": "max", "tampered": False}
