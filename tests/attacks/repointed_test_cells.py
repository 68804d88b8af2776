"""Test cells re-pointed: their grade_ids swapped around, points raised to 100, one turned
into an answer cell (solution: true) holding the cheat `assert True`, one set to
grade: false (blank answers). Fair outcome: blank's score (points come from the instructor
source), reported as tampering."""
BASE = "blank"
ASSIGNMENTS = "all"


def build(nb, ctx):
    tests = ctx.test_cells(nb)
    ids = [c["metadata"]["nbgrader"]["grade_id"] for c in tests]
    for cell, gid in zip(tests, ids[1:] + ids[:1]):
        cell["metadata"]["nbgrader"]["grade_id"] = gid
        cell["metadata"]["nbgrader"]["points"] = 100
    tests[0]["metadata"]["nbgrader"].update(solution=True, grade=False)
    tests[0]["source"] = "assert True\n"
    tests[-1]["metadata"]["nbgrader"]["grade"] = False
    return nb


EXPECT = {"status": "graded", "score": "base", "tampered": True}
