"""The wheel stands alone: installed outside the checkout, it copies the lessons for a student,
runs them, and `coursekit check` works there.

The throwaway venv gets the heavy dependencies (torch, jupyter, ...) from the test's own
environment through a ``.pth`` line, so nothing is downloaded; only coursekit comes from the
wheel (the editable install's hooks are not loaded: a plain path in a ``.pth`` does not
process the ``.pth`` files inside it).
"""
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]


def _run(cmd, cwd, env, timeout=600):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    """(python, coursekit, env, home) of a fresh venv with coursekit installed from a wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
          "-w", str(tmp / "dist"), str(ROOT)], cwd=tmp, env=env)
    wheel, = (tmp / "dist").glob("coursekit-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp, env=env)
    py = venv / "bin" / "python"
    purelib = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                           text=True).strip())
    (purelib / "_heavy_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=tmp, env=env)
    env = dict(env, PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", COURSEKIT_FAST="1",
               OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    home = tmp / "student"
    home.mkdir()
    return py, venv / "bin" / "coursekit", env, home


def test_wheel_installs_its_own_coursekit(wheel_env):
    py, _, env, home = wheel_env
    where = _run([str(py), "-c", "import coursekit, coursekit.config as c; print(coursekit.__file__); "
                  "print(c.repo_root())"], cwd=home, env=env).stdout.split()
    assert not where[0].startswith(str(ROOT)), f"coursekit imported from the checkout: {where[0]}"
    assert where[1] == "None", "an installed wheel must not look for a course checkout"


def test_student_copy_runs_lessons_and_check(wheel_env):
    py, coursekit, env, home = wheel_env
    out = _run([str(coursekit), "lessons", str(home / "course")], cwd=home, env=env).stdout
    lessons = sorted(p.name for p in (home / "course" / "lessons").glob("*.ipynb"))
    assert lessons == sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")), out
    blank = home / "course" / "assignments" / "a1_conv_arithmetic" / "a1_conv_arithmetic.ipynb"
    assert blank.read_bytes() == (ROOT / "assignments" / "a1_conv_arithmetic" / blank.name).read_bytes()
    pack = blank.with_suffix(".visible")   # check scores the student's copy with it
    assert pack.read_bytes() == (ROOT / "assignments" / "a1_conv_arithmetic" / pack.name).read_bytes()

    # A student's edit is never overwritten by a second copy.
    edited = blank.read_bytes() + b"\n"
    blank.write_bytes(edited)
    again = _run([str(coursekit), "lessons", str(home / "course")], cwd=home, env=env).stdout
    assert blank.read_bytes() == edited and "kept" in again

    script = ("import sys; from coursekit.lessons import execute; "
              "runs = [execute(p, fast=True, cell_timeout=600) for p in sys.argv[1:]]; "
              "print([(r.name, r.status) for r in runs]); sys.exit(0 if all(r.ok for r in runs) else 1)")
    picked = [str(home / "course" / "lessons" / n) for n in lessons if n[:2] in ("01", "05")]
    _run([str(py), "-c", script, *picked], cwd=home, env=env, timeout=900)

    check = subprocess.run([str(coursekit), "check", str(blank)], cwd=home, env=env,
                           capture_output=True, text=True, timeout=600)
    assert check.returncode in (0, 1), check.stderr[-2000:]          # 1: the blank fails its tests
    assert "points" in check.stdout.lower(), check.stdout[-2000:]
    assert "scored as the grader scores them" in check.stdout, check.stdout[-2000:]
