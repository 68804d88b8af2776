"""Every visible and hidden test cell replaced by `assert True` (blank answers). Fair
outcome: blank's score, reported as tampering."""
BASE = "blank"
ASSIGNMENTS = "all"


def build(nb, ctx):
    for cell in ctx.test_cells(nb):
        cell["source"] = "assert True  # all good\n"
    return nb


EXPECT = {"status": "graded", "score": "base", "tampered": True}
