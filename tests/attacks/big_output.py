"""50 MB of output on one line, on stdout and stderr, plus warnings and a progress bar:
output never costs points: honest score."""
BASE = "honest"
WHERE = "end"
CELL = r'''
import sys, warnings
print("x" * 50_000_000)
sys.stderr.write("e" * 5_000_000 + "\n")
warnings.warn("a harmless warning")
from tqdm.auto import tqdm
for _ in tqdm(range(1000)):
    pass
'''
EXPECT = {"status": "graded", "score": "max", "tampered": False}
