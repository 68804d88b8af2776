"""All test cells deleted (honest answers). Fair outcome: the honest score (tests are
restored from the release), reported as tampering."""
BASE = "honest"
ASSIGNMENTS = "all"


def build(nb, ctx):
    nb["cells"] = [c for c in nb["cells"] if c not in ctx.test_cells(nb)]
    return nb


EXPECT = {"status": "graded", "score": "max", "tampered": True}
