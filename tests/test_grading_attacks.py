"""The adversarial corpus (issue 9): every attack in tests/attacks/ graded in ONE batch.

Submissions are generated from the released assignment notebook (plus the instructor's
answers for "honest" bases), so the corpus follows the assignment. Each assignment's batch
runs in a separate process (``coursekit.grading.autograde.autograde``, ``parallel=2``; a1's
and a2's at the same time) on a copy of the course whose time and memory limits are lowered
to keep CI fast; the test then checks, per
attack, the exact fair status and score, and for the batch: every student graded, nobody
else's grade or files changed (gradebook, submissions, config, instructor sources, also
after any detached process had time to act), no hidden test in any feedback, and a bounded
peak memory of the grading process.
"""
from __future__ import annotations

import hashlib
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ATTACK_DIR = Path(__file__).resolve().parent / "attacks"
SEED = 20261123
BASELINES = ("base_honest", "base_blank", "base_wrong", "victim", "victim_late")
# Limits lowered for CI (the real ones live in the notebook metadata). memory_mb (resident
# memory, see coursekit.grading.limits) stays above what IPython + numpy + torch need (~0.75 GB).
LIMITS = {
    "a1_conv_arithmetic": {"cell_timeout": 8, "fast_total_timeout": 30, "total_timeout": 30,
                           "memory_mb": 1024},
    "a2_numpy_conv": {"cell_timeout": 20, "fast_total_timeout": 40, "total_timeout": 40,
                      "memory_mb": 1024},
}
DEFAULT_ASSIGNMENT = "a1_conv_arithmetic"  # attacks without ASSIGNMENTS run on this one

# one batch per assignment, built once: keep every test of this module on one xdist worker
# The corpus attacks the grader's isolation (kill(-1), reading other users' files ...): it needs
# root mode (namespaces, a dedicated uid). Without root the sandbox runs in basic mode, whose
# residual risks are stated in coursekit/grading/sandbox.py; basic mode's own guarantees are
# tested in test_grading_sandbox.py and test_grading_non_root.py.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("attack_corpus"),
              pytest.mark.skipif(os.geteuid() != 0, reason="the attack corpus needs the sandbox's root mode "
                                 "(run as root, as CI and `coursekit autograde` on a server do)")]


def load_attack(name: str):
    spec = importlib.util.spec_from_file_location(f"attack_{name}", ATTACK_DIR / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # attack code is a string: importing runs nothing
    return mod


ATTACKS = sorted(p.stem for p in ATTACK_DIR.glob("*.py"))
ASSIGNMENTS = [a for a in LIMITS if (ROOT / "assignments" / a / f"{a}.ipynb").is_file()]


def attacks_for(assignment: str) -> list[str]:
    out = []
    for name in ATTACKS:
        scope = getattr(load_attack(name), "ASSIGNMENTS", (DEFAULT_ASSIGNMENT,))
        if scope == "all" or assignment in scope:
            out.append(name)
    return out


PAIRS = [(a, n) for a in ASSIGNMENTS for n in attacks_for(a)]


# ------------------------------------------------------------------ building submissions
def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _nbg(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def strip_solution_markers(src: str) -> str:
    return "\n".join(line for line in src.split("\n")
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


@dataclass
class Ctx:
    """What attack builders may use."""

    assignment: str
    course: Path
    grading: Path
    submitted: Path
    funcs: list

    @staticmethod
    def test_cells(nb) -> list:
        return [c for c in nb["cells"] if c["cell_type"] == "code"
                and _nbg(c).get("grade") and not _nbg(c).get("solution")]

    def placeholders(self) -> dict:
        return {"ROOT": str(self.course), "GRADING": str(self.grading),
                "GRADEBOOK": str(self.grading / "gradebook.db"), "SUBMITTED": str(self.submitted),
                "VICTIM": str(self.submitted / "victim_late" / self.assignment),
                "CONFIG": str(self.course / "nbgrader_config.py"), "ASSIGNMENT": self.assignment,
                "FUNCS": self.funcs}


def _notebook(course: Path, kind: str, assignment: str) -> dict:
    return json.loads((course / kind / assignment / f"{assignment}.ipynb").read_text())


def base_notebooks(course: Path, assignment: str) -> dict:
    """honest / blank / wrong notebooks made from the release and the instructor's answers."""
    release = _notebook(course, "assignments", assignment)
    source = _notebook(course, "solutions", assignment)
    answers = {_nbg(c)["grade_id"]: strip_solution_markers(_src(c))
               for c in source["cells"] if _nbg(c).get("solution")}
    honest = json.loads(json.dumps(release))
    for c in honest["cells"]:
        if _nbg(c).get("solution") and c["cell_type"] == "code":
            c["source"] = answers[_nbg(c)["grade_id"]]
    wrong = json.loads(json.dumps(honest))
    first = next(i for i, c in enumerate(wrong["cells"]) if _nbg(c).get("solution"))
    wrong["cells"][first]["source"] = _src(release["cells"][first])
    return {"honest": honest, "blank": release, "wrong": wrong}


def first_answer_functions(course: Path, assignment: str) -> list[str]:
    release = _notebook(course, "assignments", assignment)
    first = next(c for c in release["cells"] if _nbg(c).get("solution"))
    return re.findall(r"^def (\w+)\(", _src(first), re.M)


def attack_notebook(name: str, bases: dict, ctx: Ctx) -> tuple[str, bytes | tuple]:
    """(file name, bytes or ("symlink", target)) of the submission for attack ``name``."""
    mod = load_attack(name)
    nb = json.loads(json.dumps(bases[mod.BASE]))
    cell = getattr(mod, "CELL", None)
    if cell is not None:
        code = textwrap.dedent(cell).strip() + "\n"
        for key, value in ctx.placeholders().items():
            code = code.replace("{{%s}}" % key, repr(value))
        new = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
               "source": code}
        first_code = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
        nb["cells"].insert(first_code + 1 if mod.WHERE == "start" else len(nb["cells"]), new)
    link = getattr(mod, "SYMLINK_TO", None)
    if link is not None:
        for key, value in ctx.placeholders().items():
            link = link.replace("{{%s}}" % key, str(value))
        return f"{ctx.assignment}.ipynb", ("symlink", link)
    build = getattr(mod, "build", None)
    out = build(nb, ctx) if build else nb
    data = out if isinstance(out, bytes) else json.dumps(out, indent=1).encode()
    return getattr(mod, "FILENAME", f"{ctx.assignment}.ipynb"), data


def tree_digest(path: Path) -> str:
    """SHA-256 over the relative paths and bytes of everything under ``path``."""
    h = hashlib.sha256()
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    for p in sorted(path.rglob("*")):
        h.update(str(p.relative_to(path)).encode() + b"\0")
        if p.is_file() and not p.is_symlink():
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


DRIVER = r"""
import json, os, resource, sys, time
from pathlib import Path
from coursekit.grading.autograde import autograde
from coursekit.grading import gradebook
def peak_mb():
    # VmHWM is this process image's own peak. ru_maxrss is not: Linux carries it over from
    # the forked copy of the parent (an xdist worker holding torch) across exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
course, grading, submitted, out, seed, a = sys.argv[1:7]
rep = autograde(a, root=Path(course), grading_dir=Path(grading), submitted_dir=Path(submitted),
                parallel=2, resume=False, seed=int(seed), progress=False, html=True)
scores_now = gradebook.scores(Path(grading), a)
time.sleep(1.5)  # a surviving detached process would act now
Path(out).write_text(json.dumps({
    "results": {s: r.to_dict() for s, r in rep.results.items()},
    "scores": scores_now,
    "scores_later": gradebook.scores(Path(grading), a),
    "maxrss_mb": peak_mb(),
}))
"""


_BATCHES: dict = {}  # assignment -> graded batch (dict), failure, or _Running


@dataclass
class _Running:
    """A batch whose grading process is under way."""

    proc: subprocess.Popen
    tmp: Path
    state: dict


@pytest.fixture(scope="module")
def batches(request, tmp_path_factory):
    """``batches(assignment)`` -> that assignment's graded batch, built once per module.

    The first request starts the batches of every assignment the selected tests need, each in
    its own grading process (``parallel=2``): they spend most of their time waiting on time
    limits (a looping or forging attack runs to the wall clock), so together they take about
    as long as the slowest alone.
    """
    def get(a: str) -> dict:
        if a not in _BATCHES:
            needed = {item.callspec.params["assignment"] for item in request.session.items
                      if getattr(item, "module", None) is request.module and hasattr(item, "callspec")
                      and "assignment" in item.callspec.params}
            for name in sorted(needed | {a}):
                if name not in _BATCHES:
                    try:
                        _BATCHES[name] = start_batch(name, tmp_path_factory.mktemp(f"attacks_{name}"))
                    except BaseException as e:  # noqa: BLE001 - report the same failure to every test
                        _BATCHES[name] = e
        if isinstance(_BATCHES[a], _Running):
            try:
                _BATCHES[a] = finish_batch(_BATCHES[a])
            except BaseException as e:  # noqa: BLE001 - report the same failure to every test
                _BATCHES[a] = e
        if isinstance(_BATCHES[a], BaseException):
            raise _BATCHES[a]
        return _BATCHES[a]
    yield get
    for name, entry in list(_BATCHES.items()):  # started for tests that did not run here
        if isinstance(entry, _Running):
            entry.proc.kill()
            entry.proc.wait()
            del _BATCHES[name]


def start_batch(a: str, tmp: Path) -> _Running:
    """Build every submission for one assignment and start grading them in one batch."""
    course, grading, submitted = tmp / "course", tmp / "grading", tmp / "submitted"
    for sub in ("solutions", "assignments"):
        shutil.copytree(ROOT / sub / a, course / sub / a)
        nb_path = course / sub / a / f"{a}.ipynb"
        nb = json.loads(nb_path.read_text())
        nb["metadata"].setdefault("coursekit", {}).update(LIMITS[a])
        nb_path.write_text(json.dumps(nb, indent=1))
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")

    from coursekit.grading.spec import load_spec, make_tests

    tests = make_tests(load_spec(course, a), a, SEED, True)
    funcs = sorted({s.fn for t in tests for c in t.cases for s in c.steps})
    ctx = Ctx(a, course, grading, submitted, funcs)
    bases = base_notebooks(course, a)
    subs = {f"base_{k}": (f"{a}.ipynb", json.dumps(v).encode()) for k, v in bases.items()}
    subs["victim"] = subs["victim_late"] = subs["base_honest"]
    attacks = attacks_for(a)
    for name in attacks:
        subs[name] = attack_notebook(name, bases, ctx)
    for student, (fname, data) in subs.items():
        folder = submitted / student / a
        folder.mkdir(parents=True)
        if isinstance(data, tuple):  # ("symlink", target)
            os.symlink(data[1], folder / fname)
        else:
            (folder / fname).write_bytes(data)

    watched = {"submitted/" + s: submitted / s for s in subs}
    watched.update(config=course / "nbgrader_config.py", solutions=course / "solutions",
                   release=course / "assignments")
    state = {"assignment": a, "attacks": attacks, "tests": tests, "grading": grading, "course": course,
             "watched": watched, "before": {k: tree_digest(p) for k, p in watched.items()},
             "entries_before": sorted(os.listdir(submitted)), "submitted": submitted}
    with open(tmp / "driver.out", "wb") as out, open(tmp / "driver.err", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(course), str(grading), str(submitted),
                                 str(tmp / "report.json"), str(SEED), a], stdout=out, stderr=err)
    return _Running(proc, tmp, state)


def finish_batch(run: _Running) -> dict:
    """Wait for a started batch and collect the evidence: report, trees before and after."""
    try:
        rc = run.proc.wait(timeout=900)
    except subprocess.TimeoutExpired:
        run.proc.kill()
        run.proc.wait()
        raise
    out = run.tmp / "report.json"
    assert rc == 0 and out.exists(), \
        f"the batch did not complete (rc {rc}):\n{(run.tmp / 'driver.err').read_bytes().decode(errors='replace')[-4000:]}"
    st = run.state
    after = {k: tree_digest(p) if p.exists() else "(deleted)" for k, p in st["watched"].items()}
    return {"assignment": st["assignment"], "attacks": st["attacks"], "report": json.loads(out.read_text()),
            "before": st["before"], "after": after, "tests": st["tests"], "grading": st["grading"],
            "course": st["course"], "entries_before": st["entries_before"],
            "entries_after": sorted(os.listdir(st["submitted"]))}


def result(batch, student) -> dict:
    return batch["report"]["results"][student]


def max_score(batch) -> float:
    return float(sum(t.points for t in batch["tests"]))


# ------------------------------------------------------------------ the batch as a whole
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_submission_was_graded_once(batches, assignment):
    batch = batches(assignment)
    assert set(batch["report"]["results"]) == set(BASELINES) | set(batch["attacks"])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_baselines_score_what_they_deserve(batches, assignment):
    batch = batches(assignment)
    full = max_score(batch)
    lost = sum(t.points for t in batch["tests"]
               if {s.fn for c in t.cases for s in c.steps}
               & set(first_answer_functions(batch["course"], batch["assignment"])))
    assert full > 0 and 0 < lost < full
    expect = {"base_honest": full, "base_blank": 0.0, "base_wrong": full - lost,
              "victim": full, "victim_late": full}
    got = {s: (result(batch, s)["status"], result(batch, s)["score"]) for s in expect}
    assert got == {s: ("graded", v) for s, v in expect.items()}
    for s in expect:
        assert result(batch, s)["tampered"] == [], (s, result(batch, s)["tampered"])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nothing_outside_the_sandbox_changed(batches, assignment):
    batch = batches(assignment)
    changed = sorted(k for k in batch["before"] if batch["before"][k] != batch["after"][k])
    assert changed == [], f"modified by the batch: {changed}"
    assert batch["entries_after"] == batch["entries_before"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_gradebook_holds_exactly_the_reported_scores(batches, assignment):
    batch = batches(assignment)
    rep = batch["report"]
    expected = {s: pytest.approx(r["score"]) for s, r in rep["results"].items()}
    assert rep["scores"] == expected
    assert rep["scores_later"] == expected, "the gradebook changed after the batch (detached process?)"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_hidden_test_or_input_in_any_feedback(batches, assignment):
    batch = batches(assignment)
    source = _notebook(batch["course"], "solutions", batch["assignment"])
    hidden_lines = [line.strip() for c in source["cells"]
                    for block in re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", _src(c), re.S)
                    for line in block.split("\n") if line.strip()]
    assert hidden_lines, "the instructor notebook has no hidden test lines to look for"
    feedback = [p for p in batch["grading"].rglob("*") if p.is_file() and "feedback" in p.parts]
    assert feedback, "no feedback was written"
    for p in feedback:
        text = p.read_text(errors="replace")
        assert "BEGIN HIDDEN TESTS" not in text, p
        assert not [h for h in hidden_lines if h in text], p


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grader_memory_stayed_bounded(batches, assignment):
    """An honest batch peaks around 150-300 MB; zip_bomb_result.py tries to make it 768 MiB more."""
    batch = batches(assignment)
    assert batch["report"]["maxrss_mb"] < 700, \
        f"the grading process peaked at {batch['report']['maxrss_mb']:.0f} MB"


# ------------------------------------------------------------------ one test per attack
def _status_matches(expected: str, got: str) -> bool:
    if expected.endswith("..."):
        return got.startswith(expected[:-3])
    if expected.count("(") > expected.count(")"):
        return got.startswith(expected)
    return got == expected


@pytest.mark.parametrize("assignment, attack", PAIRS)
def test_attack_gets_the_fair_status_and_score(batches, assignment, attack):
    batch = batches(assignment)
    expect = load_attack(attack).EXPECT
    base = load_attack(attack).BASE
    r = result(batch, attack)
    if expect["score"] == "base":
        want = result(batch, f"base_{base}")["score"]
    elif expect["score"] == "max":
        want = max_score(batch)
    else:
        want = float(expect["score"])
    assert _status_matches(expect["status"], r["status"]), (r["status"], r["notes"], r["cell_errors"][:3])
    assert r["score"] == pytest.approx(want), (r["score"], want, r["status"], r["cell_errors"][:3])
    assert bool(r["tampered"]) == expect["tampered"], r["tampered"]
    assert r["checksum"], "the submission was not checksummed"
    if expect.get("no_leak"):
        _assert_no_leak(batch, attack)
    if expect.get("nothing_stolen"):
        said = [str(e.get("error")) for e in r["cell_errors"] if "STOLEN:" in str(e.get("error"))]
        assert len(said) == 1, f"the attack did not run to its end: {r['cell_errors'][-3:]}"
        assert said[0].endswith("STOLEN: []"), f"the attack read secrets: {said[0][:300]}"


def _assert_no_leak(batch, student: str) -> None:
    """No hidden input smuggled out (as ``["fn", [args]]``, the attack's format) reaches
    anything the student gets back (feedback folder)."""
    hidden = set()
    for t in batch["tests"]:
        for c in t.cases:
            for s in c.steps:
                scalars = [a for a in s.args if isinstance(a, (int, float, str))]
                if t.hidden and scalars:
                    hidden.add(json.dumps([s.fn, scalars]))
    assert hidden, "no hidden scalar inputs to look for"
    files = [p for p in batch["grading"].rglob("*")
             if p.is_file() and "feedback" in p.parts and student in p.parts]
    assert files, f"no feedback for {student}"
    for p in files:
        text = html.unescape(html.unescape(p.read_text(errors="replace"))).replace('\\"', '"')
        found = sorted(h for h in hidden if h in text)
        assert not found, f"hidden inputs reach the student's feedback {p.name}: {found[:3]}"
