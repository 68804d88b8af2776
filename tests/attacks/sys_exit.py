"""sys.exit(0) and raise SystemExit in a cell after the answers. A notebook carries on after
them, so the fair outcome is the honest score."""
BASE = "honest"
WHERE = "end"
CELL = r'''
import sys
sys.exit(0)
'''
EXPECT = {"status": "graded", "score": "max", "tampered": False}
