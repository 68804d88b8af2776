"""An honest notebook whose kernelspec names a kernel that does not exist (and a
language_info claiming R). The grader picks its own interpreter: honest score."""
BASE = "honest"


def build(nb, ctx):
    nb["metadata"]["kernelspec"] = {"name": "evil-kernel-9000", "display_name": "Evil", "language": "r"}
    nb["metadata"]["language_info"] = {"name": "R"}
    return nb


EXPECT = {"status": "graded", "score": "max", "tampered": False}
