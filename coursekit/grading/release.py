"""Generate the student release (``assignments/``) from ``solutions/`` with nbgrader, and
verify that the committed release is exactly what nbgrader generates.

``assignments/`` is never edited by hand: :func:`verify_release` regenerates each assignment
into a temporary folder and lists every file that differs from the committed one.

Beside each release notebook, ``<a>.visible`` is the visible-case pack ``coursekit check``
scores a student's copy with (:mod:`coursekit.grading.visible`): written by :func:`release`,
regenerated and compared by :func:`verify_releases` (structure exactly, reference floats
within :data:`~coursekit.grading.visible.FLOAT_TOL` of their array's scale).
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path


ASSIGNMENTS = ("a1_conv_arithmetic", "a2_numpy_conv", "a3_batchnorm_dropout", "a4_train_a_cnn",
               "a5_visualization")


def course_root() -> Path:
    """The checkout holding ``nbgrader_config.py`` (editable install)."""
    from coursekit.config import repo_root

    root = repo_root()
    if root is None or not (root / "nbgrader_config.py").is_file():
        raise FileNotFoundError("coursekit is not running from a course checkout with nbgrader_config.py")
    return root


def available(root: Path | None = None) -> list[str]:
    """Assignments that have an instructor source notebook and a spec."""
    root = Path(root or course_root())
    return [a for a in ASSIGNMENTS
            if (root / "solutions" / a / f"{a}.ipynb").is_file() and (root / "solutions" / a / "spec.py").is_file()]


def nbgrader_config(course_dir: Path, **overrides):
    """The course's nbgrader_config.py as a traitlets Config, with CourseDirectory overrides."""
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    for k, v in overrides.items():
        setattr(cfg.CourseDirectory, k, v)
    return cfg


def generate_release(root: Path, name: str, release_dir: Path, db: str | None = None) -> Path:
    """Run nbgrader's generate_assignment for ``name`` into ``release_dir``; returns the
    assignment folder. ``db``: gradebook URL to record the cells in (default: config's)."""
    from nbgrader.apps import NbGraderAPI

    from .gradebook import ensure_tools_on_path

    ensure_tools_on_path()
    over = {"release_directory": str(Path(release_dir).resolve()), "root": str(Path(root).resolve())}
    if db:
        over["db_url"] = db
    api = NbGraderAPI(config=nbgrader_config(Path(root), **over))
    out = api.generate_assignment(name, force=True, create=True)
    if not out.get("success"):
        raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{out.get('log')}\n{out.get('error')}")
    return Path(release_dir) / name


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}


def _canonical(name: str, data: bytes) -> bytes:
    if name.endswith(".ipynb"):
        return json.dumps(json.loads(data), sort_keys=True, indent=1).encode()
    return data


def verify_release(root: Path, name: str) -> list[str]:
    """Differences between the committed ``assignments/<name>`` and a fresh generation
    (empty list when identical)."""
    return verify_releases(root, [name])[name]


def verify_releases(root: Path, names) -> dict[str, list[str]]:
    """:func:`verify_release` of each of ``names``, generated into one scratch gradebook
    (creating a gradebook costs seconds, recording one more assignment in it a fraction of one)."""
    from .visible import SUFFIX, build_pack, encode

    root = Path(root)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = "sqlite:///" + str(Path(tmp) / "gradebook.db")
        for name in names:
            folder = generate_release(root, name, Path(tmp) / "release", db=db)
            fresh = _files(folder)   # and the pack of the fresh release, never of the committed one
            fresh[name + SUFFIX] = encode(build_pack(root, name, folder / f"{name}.ipynb"))
            out[name] = _differences(root, name, fresh)
    return out


def _differences(root: Path, name: str, fresh: dict[str, bytes]) -> list[str]:
    from .visible import SUFFIX, differences as pack_differences

    committed_dir = root / "assignments" / name
    committed = _files(committed_dir) if committed_dir.is_dir() else {}
    problems = []
    for f in sorted(set(fresh) | set(committed)):
        if f not in committed:
            problems.append(f"assignments/{name}/{f} is missing (regenerate the release)")
        elif f not in fresh:
            problems.append(f"assignments/{name}/{f} is not produced by nbgrader (remove it)")
        elif f.endswith(SUFFIX):
            problems += [f"assignments/{name}/{f} is stale ({d}): regenerate it with `coursekit release {name}`"
                         for d in pack_differences(committed[f], fresh[f])[:3]]
        elif _canonical(f, fresh[f]) != _canonical(f, committed[f]):
            problems.append(f"assignments/{name}/{f} differs from what nbgrader generates "
                            f"(edited by hand? regenerate with `coursekit release {name}`)")
    for f in committed:
        if f.endswith("spec.py"):
            problems.append(f"assignments/{name}/{f}: instructor spec must never be released")
    return problems


def release(root: Path, name: str, db: str | None = None) -> Path:
    """Regenerate ``assignments/<name>`` in place (what instructors run after editing a source),
    with its visible-case pack (rewritten only when its content changed: the file's bytes carry
    zip timestamps)."""
    from .visible import build_pack, differences, encode, pack_path

    path = pack_path(Path(root) / "assignments" / name, name)
    old = path.read_bytes() if path.is_file() else None
    folder = generate_release(root, name, Path(root) / "assignments", db=db)
    data = encode(build_pack(root, name, folder / f"{name}.ipynb"))
    path.write_bytes(data if old is None or differences(old, data) else old)
    return folder
