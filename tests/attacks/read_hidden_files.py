"""Read the instructor source, the spec with the hidden tests, the gradebook and other
students' work by absolute and relative paths, from the executed copy (cwd, job files),
/proc and the environment; exec any solution code found. Fair outcome: blank's score, and
nothing secret readable (the attack ends by raising an error that lists what it could read,
which the grader records as a cell error; the test checks that the list is empty)."""
BASE = "blank"
ASSIGNMENTS = "all"
WHERE = "end"
CELL = r'''
import glob, os, re
# the markers are assembled here so that this cell's own source (which the grader hands to
# the child in its job file) does not count as a secret
SECRETS = ["BEGIN " + "SOLUTION", "BEGIN " + "HIDDEN", "def " + "tests(", "SQLite " + "format",
           "COURSEKIT_" + "GRADING_SEED"]
targets = [
    {{ROOT}} + "/solutions/" + {{ASSIGNMENT}} + "/" + {{ASSIGNMENT}} + ".ipynb",
    {{ROOT}} + "/solutions/" + {{ASSIGNMENT}} + "/spec.py",
    {{ROOT}} + "/nbgrader_config.py", {{GRADEBOOK}}, {{VICTIM}} + "/" + {{ASSIGNMENT}} + ".ipynb",
    "../../../source/" + {{ASSIGNMENT}} + "/" + {{ASSIGNMENT}} + ".ipynb",
    "../../../solutions/" + {{ASSIGNMENT}} + "/spec.py", "../../gradebook.db", "../gradebook.db",
    "/proc/1/environ", "/proc/1/cmdline", "/proc/self/environ",
]
for up in range(1, 6):
    targets += glob.glob("../" * up + "**/*.ipynb", recursive=False)
    targets += glob.glob("../" * up + "*/spec.py")
stolen = []
for dirpath, dirs, files in os.walk("."):
    targets += [os.path.join(dirpath, f) for f in files]
for path in targets:
    try:
        with open(path, "rb") as f:
            data = f.read(2_000_000)
    except OSError:
        continue
    text = data.decode("utf-8", "replace")
    if any(m in text for m in SECRETS):
        stolen.append(path)
    if path.endswith(".ipynb") and SECRETS[0] in text:
        import json
        for cell in json.loads(text)["cells"]:
            src = "".join(cell["source"])
            if SECRETS[0] in src:
                exec(src, globals())
print("STOLEN:", stolen)
raise RuntimeError("STOLEN: " + repr(stolen[:20]))
'''
EXPECT = {"status": "graded", "score": "base", "tampered": False, "nothing_stolen": True}
