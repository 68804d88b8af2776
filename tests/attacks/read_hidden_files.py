"""Read the instructor source, the spec with the hidden tests, the gradebook and other
students' work by absolute and relative paths, from the executed copy (cwd, job files),
/proc and the environment; exec any solution code found. Fair outcome: blank's score, and
nothing secret readable (the attack prints what it could read; the test checks it)."""
BASE = "blank"
ASSIGNMENTS = "all"
WHERE = "end"
CELL = r'''
import glob, os, re
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
    if "BEGIN SOLUTION" in text or "BEGIN HIDDEN" in text or "def tests(" in text \
            or "SQLite format" in text or "COURSEKIT_GRADING_SEED" in text:
        stolen.append(path)
    for block in re.findall(r"### BEGIN SOLUTION(.*?)### END SOLUTION", text.replace("\\n", "\n"), re.S):
        pass
    if path.endswith(".ipynb") and "BEGIN SOLUTION" in text:
        import json
        for cell in json.loads(text)["cells"]:
            src = "".join(cell["source"])
            if "BEGIN SOLUTION" in src:
                exec(src, globals())
print("STOLEN:", stolen)
'''
EXPECT = {"status": "graded", "score": "base", "tampered": False, "stdout_clean": True}
