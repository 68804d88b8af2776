"""An honest notebook submitted under another file name. Fair outcome: found and graded
with a note: honest score."""
BASE = "honest"
FILENAME = "my homework (final) v2.ipynb"
EXPECT = {"status": "graded", "score": "max", "tampered": False}
