"""Issue 18: a class on JupyterHub with nbgrader's exchange, end to end (all on 127.0.0.1).

Real system users (an instructor, three students) get servers from JupyterHub's local process
spawner; nbgrader's exchange lives in a temporary folder. The instructor releases a1 and a2;
each student fetches, fills in and submits through their own server (nbgrader's assignment
list API behind the Hub): one the solution after the deadline, one a blank and then a buggy
version (the later counts), one a blank. The instructor collects, ``coursekit autograde``
grades (as root: its sandbox) and carries each submission's time and secret over (late flag,
feedback filing), nbgrader releases the feedback, each student fetches theirs. The instructor's
nbgrader steps run on the command line for a1 and through formgrader's API (its buttons) for a2. Scores are checked exactly against
tests/submissions/expected_scores.json in the feedback, the gradebook, ``nbgrader export`` and
formgrader (opened in headless Chromium through the Hub; screenshots in build/hub/).

Runs as root (CI); skipped with the reason where users cannot be created.
"""
from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

import hub_class as hc
from grading_corpus import honest

ROOT = Path(__file__).resolve().parent.parent
A1, A2 = "a1_conv_arithmetic", "a2_numpy_conv"
ASSIGNMENTS = (A1, A2)
BUGGY = {A1: "buggy_dilation", A2: "buggy_bias"}
EXPECTED = json.loads((ROOT / "tests" / "submissions" / "expected_scores.json").read_text())
SHOTS = ROOT / "build" / "hub"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

REASON = hc.skip_reason()
needs_class = pytest.mark.skipif(REASON is not None, reason=f"class on JupyterHub: {REASON}")


def _config(**values) -> str:
    return "c = get_config()  # noqa: F821\n" + "".join(f"c.{k} = {v!r}\n" for k, v in values.items())


def _hidden_lines(name: str) -> list[str]:
    """The lines of the instructor's hidden tests (between BEGIN/END HIDDEN TESTS)."""
    nb = json.loads((ROOT / "solutions" / name / f"{name}.ipynb").read_text())
    out = []
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", src, re.S):
            out += [ln.strip() for ln in block.splitlines() if len(ln.strip()) > 12]
    return out


class Class:
    """The class's folders, users and Hub (built by the fixture)."""

    def __init__(self, base: Path, users: hc.SystemUsers, instructor: str, students: list[str], env_bin: Path):
        self.base, self.users, self.instructor, self.students = base, users, instructor, students
        self.env_bin = env_bin
        self.exchange = base / "exchange"
        self.course = users.home(instructor) / "course"
        self.grading = users.home(instructor) / "grading"
        self.hub: hc.Hub | None = None

    def env(self, user: str) -> dict:
        return {"PATH": f"{self.env_bin}:/usr/bin:/bin", "HOME": str(self.users.home(user)), "LANG": "C.UTF-8"}

    def nbgrader(self, *args: str, check: bool = True):
        """An nbgrader command run by the instructor in the course folder."""
        return hc.run_as(self.instructor, ["nbgrader", *args], self.env(self.instructor), self.course, check=check)

    def instructor_step(self, action: str, name: str) -> None:
        """``release``, ``collect`` or ``release_feedback`` by the instructor: a1 on the command
        line (``nbgrader release_assignment A`` ...), a2 with formgrader's buttons (its API in the
        instructor's server, which runs the same nbgrader code)."""
        if name == A1:
            self.nbgrader({"release": "release_assignment"}.get(action, action), name)
            return
        r = self.hub.user_api(self.instructor, "POST", f"formgrader/api/assignment/{name}/{action}")
        assert r.status_code == 200 and r.json().get("success"), f"formgrader {action} {name}: {r.text[:800]}"

    def set_duedate(self, name: str, when: datetime) -> None:
        """The due date, as formgrader's *Manage Assignments* page sets it."""
        r = self.hub.user_api(self.instructor, "PUT", f"formgrader/api/assignment/{name}",
                              json={"duedate_notimezone": f"{when:%Y-%m-%dT%H:%M:%S.%f}", "duedate_timezone": "UTC"})
        assert r.status_code == 200 and r.json().get("duedate"), f"due date of {name}: {r.text[:500]}"

    def py_as(self, user: str, code: str):
        return hc.run_as(user, ["python", "-c", code], self.env(user), Path("/"), check=False)

    # a student's actions, through the Hub and their own server
    def action(self, student: str, action: str, name: str):
        r = self.hub.user_api(student, "POST", f"assignments/{action}",
                              params={"course_id": hc.COURSE_ID, "assignment_id": name})
        assert r.status_code == 200, f"{student} {action} {name}: {r.status_code} {r.text[:500]}"
        return r.json()

    def listing(self, student: str) -> list[dict]:
        r = self.hub.user_api(student, "GET", "assignments", params={"course_id": hc.COURSE_ID})
        assert r.status_code == 200 and r.json()["success"], r.text[:1000]
        return r.json()["value"]

    def put_notebook(self, student: str, path: str, nb: dict) -> None:
        r = self.hub.user_api(student, "PUT", f"api/contents/{path}",
                              json={"type": "notebook", "format": "json", "content": nb})
        assert r.status_code in (200, 201), f"{student} saving {path}: {r.status_code} {r.text[:300]}"

    def get_text(self, student: str, path: str) -> str:
        r = self.hub.user_api(student, "GET", f"api/contents/{path}",
                              params={"type": "file", "format": "text", "content": "1"})
        assert r.status_code == 200, f"{student} reading {path}: {r.status_code} {r.text[:300]}"
        return r.json()["content"]


@pytest.fixture(scope="module")
def klass():
    tag = f"{os.getpid() % 100000}"
    instructor, students = f"ck{tag}i", [f"ck{tag}s{n}" for n in (1, 2, 3)]
    _T0[0] = time.monotonic()
    hc.SystemUsers.remove_stale(r"(/tmp/coursekit-hub-[^/]+)/home/ck\d+[is]\d?")
    base = Path(tempfile.mkdtemp(prefix="coursekit-hub-", dir="/tmp"))
    base.chmod(0o755)
    hub = None
    try:
        env_bin = hc.build_env(base / "env")
        _step("users' Python built")
        with hc.SystemUsers([instructor, *students], base / "home") as users:
            k = Class(base, users, instructor, students, env_bin)
            _set_up_folders(k)
            hub = k.hub = hc.Hub(base / "hub", [instructor, *students], instructor, env_bin).start()
            for u in [instructor, *students]:
                hub.request_server(u)
            for u in [instructor, *students]:
                hub.wait_server(u)
            try:
                yield k
            finally:
                hub.stop()
    finally:
        if hub is not None:
            hub.stop()
        shutil.rmtree(base, ignore_errors=True)


def _set_up_folders(k: Class) -> None:
    """The exchange (0777, as nbgrader asks), the instructor's course (release + sources, no
    grading spec) and everyone's nbgrader_config.py."""
    k.exchange.mkdir()
    k.exchange.chmod(0o777)
    for name in ASSIGNMENTS:
        shutil.copytree(ROOT / "assignments" / name, k.course / "assignments" / name)
        (k.course / "solutions" / name).mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / name / f"{name}.ipynb", k.course / "solutions" / name)
    k.grading.mkdir()
    paths = {f"CourseDirectory.{d}_directory": str(k.grading / d)
             for d in ("submitted", "autograded", "feedback")}
    common = {"Exchange.root": str(k.exchange), "CourseDirectory.course_id": hc.COURSE_ID}
    instructor_cfg = _config(**common, **paths, **{
        "CourseDirectory.root": str(k.course), "CourseDirectory.source_directory": "solutions",
        "CourseDirectory.release_directory": "assignments",
        "CourseDirectory.db_url": f"sqlite:///{k.grading / 'gradebook.db'}"})
    for user in [k.instructor, *k.students]:
        cfg = k.users.home(user) / ".jupyter"
        cfg.mkdir()
        (cfg / "nbgrader_config.py").write_text(instructor_cfg if user == k.instructor else _config(**common))
        hc.chown_tree(k.users.home(user), user)


def _denied(k: Class, user: str, path: Path) -> None:
    r = k.py_as(user, f"import os\np = {str(path)!r}\ntry:\n"
                      f"    os.listdir(p) if os.path.isdir(p) else open(p).read()\n"
                      f"except PermissionError:\n    print('denied')\nelse:\n    print('read')")
    assert r.stdout.strip() == "denied", f"{user} could read {path}: {r.stdout} {r.stderr}"


_T0 = [time.monotonic()]


def _step(what: str) -> None:
    print(f"[class on JupyterHub] {time.monotonic() - _T0[0]:6.1f} s  {what}", flush=True)


def _feedback_score(text: str) -> list[tuple[float, float]]:
    plain = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return [(float(a), float(b)) for a, b in re.findall(r"Score:\s*([0-9.]+)\s*/\s*([0-9.]+)", plain)]


@needs_class
@pytest.mark.slow
def test_class_on_jupyterhub(klass):
    k = klass
    late, twice, blank = k.students
    _step("hub and four servers up")

    # 1. the instructor releases a1 and a2 to the exchange
    for name in ASSIGNMENTS:
        k.instructor_step("release", name)

    _step("a1, a2 released")
    # 2. students fetch through their servers; two submit on time (one twice), one after the deadline
    for s in k.students:
        for name in ASSIGNMENTS:
            k.action(s, "fetch", name)
        fetched = {a["assignment_id"]: a["status"] for a in k.listing(s) if "submissions" not in a}
        assert fetched == {A1: "fetched", A2: "fetched"}, fetched
    for name in ASSIGNMENTS:
        k.action(blank, "submit", name)                      # the release as fetched
        k.action(twice, "submit", name)                      # a blank first ...
        k.put_notebook(twice, f"{name}/{name}.ipynb",
                       json.loads((ROOT / "tests" / "submissions" / name / f"{BUGGY[name]}.ipynb").read_text()))
        k.action(twice, "submit", name)                      # ... then the buggy version: it counts
    duedate = datetime.now(timezone.utc)
    for name in ASSIGNMENTS:
        k.set_duedate(name, duedate)
    time.sleep(1.0)
    for name in ASSIGNMENTS:
        k.put_notebook(late, f"{name}/{name}.ipynb", honest(ROOT, name))
        k.action(late, "submit", name)

    _step("fetched and submitted (one twice, one late)")
    # 3. nobody reads another's work: inbound is write-only, homes are private
    inbound = k.exchange / hc.COURSE_ID / "inbound"
    probe = k.py_as(late, f"import os\ntry:\n    os.listdir({str(inbound)!r})\nexcept PermissionError:\n"
                          f"    print('denied')\nelse:\n    print('listed')")
    assert probe.stdout.strip() == "denied", probe
    submitted = sorted(p.name for p in inbound.iterdir())
    assert len([p for p in submitted if p.startswith(f"{twice}+{A1}+")]) == 2, submitted
    for path in [k.users.home(twice), k.users.home(twice) / A1 / f"{A1}.ipynb",
                 k.users.home(k.instructor) / "grading"]:
        _denied(k, late, path)
    for p in submitted:  # a submission's folder name ends in a random part nobody can guess
        assert re.fullmatch(r"[^+]+\+[^+]+\+[^+]+\+[A-Za-z0-9_-]{12}", p), p

    # 4. the instructor collects; coursekit grades (as root, sandboxed) and carries times and
    #    secrets over; the instructor releases the feedback
    for name in ASSIGNMENTS:
        k.instructor_step("collect", name)
    env = dict(os.environ, COURSEKIT_GRADING_DIR=str(k.grading))
    bindir = Path(sys.executable).parent
    for name in ASSIGNMENTS:
        r = subprocess.run([str(bindir / "coursekit"), "autograde", name, "--parallel", "2"], env=env,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
    hc.chown_tree(k.grading, k.instructor)
    for name in ASSIGNMENTS:
        k.instructor_step("release_feedback", name)
    _denied(k, late, k.exchange / hc.COURSE_ID / "feedback")  # files named by a per-submission secret
    _step("collected, graded, feedback released")

    expected = {s: {name: EXPECTED[name][kind] for name in ASSIGNMENTS}
                for s, kind in ((late, "solution"), (blank, "blank"))}
    expected[twice] = {name: EXPECTED[name][BUGGY[name]] for name in ASSIGNMENTS}

    # 5. each student fetches their feedback: exactly their score, no hidden test
    for s in k.students:
        for name in ASSIGNMENTS:
            k.action(s, "fetch_feedback", name)
        submitted = {a["assignment_id"]: a["submissions"] for a in k.listing(s) if "submissions" in a}
        for name in ASSIGNMENTS:
            subs = submitted[name]
            with_feedback = [x for x in subs if x.get("has_local_feedback")]
            assert len(subs) == (2 if s == twice else 1), subs
            assert len(with_feedback) == 1, f"{s} {name}: {subs}"  # only the submission that counts
            assert with_feedback[0]["timestamp"] == max(x["timestamp"] for x in subs)
            folder = f"{name}/feedback/{with_feedback[0]['timestamp']}"
            text = k.get_text(s, f"{folder}/{name}.html")
            assert _feedback_score(text) == [(expected[s][name], EXPECTED[name]["max"])], (s, name)
            plain = html.unescape(text)
            assert "HIDDEN TESTS" not in plain
            leaked = [ln for ln in _hidden_lines(name) if ln in plain]
            assert not leaked, f"{s}'s feedback on {name} shows hidden tests: {leaked[:3]}"

    _step("feedback fetched and checked")
    # 6. the gradebook, nbgrader export (late flag kept) and formgrader agree
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{k.grading / 'gradebook.db'}") as gb:
        book = {(sub.student.id, sub.assignment.name): (float(sub.score), sub.total_seconds_late)
                for name in ASSIGNMENTS for sub in gb.assignment_submissions(name)}
    assert {key: v[0] for key, v in book.items()} == \
        {(s, name): float(expected[s][name]) for s in k.students for name in ASSIGNMENTS}
    assert {key for key, v in book.items() if v[1] > 0} == {(late, A1), (late, A2)}

    out = k.users.home(k.instructor) / "grades.csv"
    k.nbgrader("export", f"--to={out}")
    rows = list(csv.DictReader(out.open()))
    exported = {(r["student_id"], r["assignment"]): float(r["score"]) for r in rows if r["timestamp"]}
    assert exported == {key: v[0] for key, v in book.items()}
    for r in rows:
        if r["student_id"] in k.students:
            is_late = datetime.fromisoformat(r["timestamp"]) > datetime.fromisoformat(r["duedate"])
            assert is_late == (r["student_id"] == late), r

    _step("gradebook = export, late flag kept")
    _formgrader(k, expected)
    _step("formgrader checked in Chromium")


def _formgrader(k: Class, expected: dict) -> None:
    """formgrader through the Hub as the instructor, in headless Chromium: each student's
    total and per-assignment scores; screenshots under build/hub/."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    total_max = sum(EXPECTED[n]["max"] for n in ASSIGNMENTS)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(f"{k.hub.url}/hub/login", timeout=60_000)
            page.fill("input[name=username]", k.instructor)
            page.fill("input[name=password]", k.hub.password)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(re.compile(r".*/(user|hub)/.*"), timeout=60_000)
            fg = f"{k.hub.url}/user/{k.instructor}/formgrader"
            page.goto(f"{fg}/manage_students", timeout=90_000)
            page.wait_for_selector("td.score", timeout=90_000)
            page.wait_for_function("document.querySelectorAll('td.score').length >= 3", timeout=60_000)
            rows = page.eval_on_selector_all(
                "tbody tr", "rs => rs.map(r => Array.from(r.querySelectorAll('td')).map(c => c.innerText.trim()))")
            page.screenshot(path=str(SHOTS / "formgrader_students.png"), full_page=True)
            for s in k.students:
                row = next((r for r in rows if s in r), None)
                assert row is not None, f"formgrader lists no {s}: {rows}"
                total = sum(expected[s].values())
                assert f"{total:g} / {total_max:g}" in row, (s, row)
            for s in k.students:
                page.goto(f"{fg}/manage_students/{s}", timeout=90_000)
                page.wait_for_function("document.querySelectorAll('td.score').length >= 2", timeout=60_000)
                rows = page.eval_on_selector_all(
                    "tbody tr", "rs => rs.map(r => Array.from(r.querySelectorAll('td')).map(c => c.innerText.trim()))")
                page.screenshot(path=str(SHOTS / f"formgrader_{s[-2:]}.png"), full_page=True)
                for name in ASSIGNMENTS:
                    row = next((r for r in rows if r and r[0].startswith(name)), None)
                    assert row is not None, (s, name, rows)
                    assert f"{expected[s][name]:g} / {EXPECTED[name]['max']:g}" in row, (s, name, row)
        finally:
            browser.close()
