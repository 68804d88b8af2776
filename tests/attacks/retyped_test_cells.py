"""Test cells deleted and re-typed by hand: same source, no nbgrader metadata, Windows line
endings and trailing spaces (what copy-paste does). Fair outcome: the honest score and NO
tampering report (the tests are identical)."""
BASE = "honest"
ASSIGNMENTS = "all"


def build(nb, ctx):
    for cell in ctx.test_cells(nb):
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = src.replace("\n", "  \r\n") + "\n"
        cell["metadata"] = {}
        cell["execution_count"] = 7
    return nb


EXPECT = {"status": "graded", "score": "max", "tampered": False}
