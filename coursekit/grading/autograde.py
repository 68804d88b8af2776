"""``coursekit autograde ASSIGNMENT [--parallel N] [--student S] [--resume] [--rotate-hidden-inputs]``.

Each submission is one transaction: graded in a worker thread (the student's code runs in a
sandboxed child), whose worker then writes its feedback page and autograded notebook (bounded
in size and time: :mod:`coursekit.grading.feedback`); then — in this thread only, so the
gradebook has a single writer — its scores go to nbgrader's gradebook (held open for the
batch, one commit per submission), and finally its journal record
``<grading dir>/autograde/<assignment>/<student>.json`` (a safe file name for odd ids:
:func:`safe_name`) is written atomically with its status. A failure in any of these steps
becomes that student's status (naming the step and the error) and the batch goes on. ``--resume`` skips submissions whose journal record exists and whose files are
unchanged (checksum), so a batch killed with SIGKILL finishes without re-grading or losing
anything. The gradebook is backed up before every batch. Hidden inputs are the same in every
batch of an assignment (:func:`batch_seed`), so a regrade gives the same scores.
"""
from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from ..config import grading_dir
from . import feedback as feedback_mod
from . import gradebook
from .notebook import InvalidNotebook, folder_checksum, parse_notebook
from .runner import SubmissionResult, find_notebook, grade_submission, prepare, read_regular_file


def default_grading_dir() -> Path:
    """``$COURSEKIT_GRADING_DIR`` or ``~/.cache/coursekit/grading`` (:func:`coursekit.config.grading_dir`)."""
    return grading_dir()


@dataclass
class BatchReport:
    """What a batch did: results per student, who was resumed (not re-graded), timing."""

    assignment: str
    results: dict = field(default_factory=dict)
    resumed: list = field(default_factory=list)
    graded: list = field(default_factory=list)
    backup: Path | None = None
    batch: str = ""
    seconds: float = 0.0
    prepare_seconds: float = 0.0
    phases: dict = field(default_factory=dict)   # phase -> [wall s, thread CPU s] summed over submissions

    def add_phase(self, phase: str, wall: float, cpu: float) -> None:
        with _PHASE_LOCK:
            w, c = self.phases.get(phase, (0.0, 0.0))
            self.phases[phase] = (w + wall, c + cpu)

    def table(self) -> list[tuple]:
        return [(s, r.status, f"{r.score:g}", f"{r.max_score:g}", "yes" if r.tampered else "")
                for s, r in sorted(self.results.items())]


_PHASE_LOCK = threading.Lock()


class _Timed:
    """``with _Timed(report, "feedback"):`` adds the block's wall and thread CPU seconds."""

    def __init__(self, report: BatchReport | None, phase: str):
        self.report, self.phase = report, phase

    def __enter__(self):
        self.t0, self.c0 = time.perf_counter(), time.thread_time()

    def __exit__(self, *exc):
        if self.report is not None:
            self.report.add_phase(self.phase, time.perf_counter() - self.t0, time.thread_time() - self.c0)
        return False


def batch_seed(grading_dir: Path, assignment: str, resume: bool, seed: int | None,
               rotate: bool = False) -> tuple[str, int]:
    """(batch id, seed of the hidden inputs) for a batch.

    Hidden inputs are STABLE for an assignment: seed = hash(instructor's secret, assignment,
    generation), so a regrade, a late submission and a second student with the same code get
    the same score. The generation (``<grading dir>/autograde/<assignment>.batch.json``) starts
    at 0 and changes only when the instructor asks (``rotate=True``, ``coursekit autograde
    --rotate-hidden-inputs``), e.g. after inputs leaked. The batch id names the generation, so
    ``--resume`` re-grades nothing graded with the same inputs. An explicit ``seed`` (tests)
    fixes the inputs. ``resume`` is accepted for compatibility: every batch resumes its generation.
    """
    import hashlib

    from .spec import grading_seed

    if seed is not None:
        return f"seed:{seed}", int(seed)
    state = Path(grading_dir) / "autograde" / f"{assignment}.batch.json"
    generation = 0
    try:
        generation = int(json.loads(state.read_text())["generation"])
    except (OSError, ValueError, KeyError, TypeError):
        generation = 0
    if rotate or not state.exists():
        generation += 1 if rotate else 0
        _write_atomic(state, json.dumps({"generation": generation, "batch": f"inputs-{generation}"}))
    secret = grading_seed(grading_dir)
    digest = hashlib.sha256(f"{secret}:{assignment}:{generation}".encode()).hexdigest()
    return f"inputs-{generation}", int(digest[:16], 16)


def safe_name(student: str) -> str:
    """A file name for a student id: the id itself when it is a plain, short, UTF-8 name;
    otherwise a readable prefix plus a hash of the id (no path separators, no dot first,
    at most 80 characters, never two ids on one name)."""
    import hashlib
    import re

    ok = re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,63}", student or "") is not None
    if ok:
        return student
    raw = os.fsencode(student) if isinstance(student, str) else bytes(student)
    digest = hashlib.sha256(raw).hexdigest()[:16]
    prefix = re.sub(r"[^A-Za-z0-9_.@+-]", "_", raw.decode("utf-8", "replace"))[:40].lstrip(".")
    return f"{prefix or 'student'}~{digest}"


def journal_path(grading_dir: Path, assignment: str, student: str) -> Path:
    return Path(grading_dir) / "autograde" / assignment / f"{safe_name(student)}.json"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_journal(grading_dir: Path, assignment: str, student: str) -> SubmissionResult | None:
    p = journal_path(grading_dir, assignment, student)
    try:
        return SubmissionResult.from_dict(json.loads(p.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def list_students(submitted_dir: Path, assignment: str) -> list[str]:
    """Student folders holding the assignment (a linked folder is listed: grading refuses it)."""
    if not Path(submitted_dir).is_dir():
        return []
    out = []
    for p in Path(submitted_dir).iterdir():
        try:
            if not p.name.startswith(".") and p.is_dir() and os.path.lexists(p / assignment):
                out.append(p.name)
        except OSError:
            continue
    return sorted(out)


def _student_cells(folder: Path, assignment: str):
    path, _ = find_notebook(folder, assignment)
    if path is None:
        return None
    try:
        return parse_notebook(read_regular_file(path, folder))
    except (InvalidNotebook, OSError):
        return None


# nbgrader's exchange leaves these beside a collected submission: when the student submitted
# (the gradebook's timestamp, so a late submission shows as late) and the key under which
# ``nbgrader fetch_feedback`` finds the student's feedback (``release_feedback`` needs both
# files beside the autograded notebook and the feedback).
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")


def exchange_files(folder: Path) -> dict[str, bytes]:
    """name -> bytes of each :data:`EXCHANGE_FILES` file in a submission folder (regular files
    of at most 4 KiB, reached without symbolic links; others are ignored). Kept byte for byte:
    nbgrader hashes the secret as read."""
    out = {}
    for name in EXCHANGE_FILES:
        try:
            out[name] = read_regular_file(folder / name, folder, cap=4096)
        except InvalidNotebook:
            pass
    return out


def submission_time(folder: Path):
    """When the student submitted (``timestamp.txt``, UTC datetime), or None when the file is
    missing or unreadable (the student writes it: a bad one costs nothing, it is ignored)."""
    data = exchange_files(folder).get("timestamp.txt")
    if not data:
        return None
    try:
        from nbgrader.utils import parse_utc
        return parse_utc(data.decode("utf-8").strip())
    except Exception:  # noqa: BLE001 - whatever dateutil refuses
        return None


def _carry_exchange_files(grading_dir: Path, folder: Path, student: str, assignment: str) -> None:
    files = exchange_files(folder)
    for kind in ("autograded", "feedback"):
        dest = Path(grading_dir) / kind / safe_name(student) / assignment
        if files and dest.is_dir():
            for name, data in files.items():
                (dest / name).write_bytes(data)


def write_feedback(a, result: SubmissionResult, grading_dir: Path, folder: Path, html: bool, log=print,
                   report: BatchReport | None = None) -> None:
    """The submission's autograded notebook and (``html``) feedback page, written by the
    worker that graded it (never by the single gradebook writer), with the exchange's
    :data:`EXCHANGE_FILES` beside them. A failure becomes this student's status
    (``error: could not write feedback: ...``), logged with the id."""
    with _Timed(report, "feedback"):
        try:
            cells = _student_cells(folder, a.name)
            feedback_mod.write(result, a.release, a.source, cells, grading_dir, html_out=html,
                               folder_name=safe_name(result.student), policy=a.policy)
            _carry_exchange_files(grading_dir, folder, result.student, a.name)
        except Exception as e:  # noqa: BLE001 - student content must not stop the batch
            _fail(result, "could not write feedback", e, log)


def commit(a, result: SubmissionResult, grading_dir: Path, folder: Path, html: bool | None = None,
           log=print, book: "gradebook.Writer | None" = None, report: BatchReport | None = None) -> None:
    """Commit one graded submission as its own transaction, in the single writer thread:
    gradebook (``book``, or a gradebook opened for this one write), then the journal record.
    ``html`` not None: write the feedback first, here (callers that grade outside
    :func:`autograde`). A failure in any step becomes this student's status and is logged
    with the student's id; the journal is still written, so the batch goes on and
    ``--resume`` skips the submission."""
    if html is not None:
        write_feedback(a, result, grading_dir, folder, html, log, report)
    with _Timed(report, "gradebook"):
        try:
            stamp = submission_time(folder)
            if book is not None:
                book.write_scores(result, stamp, student_id=gradebook_id(result.student))
            else:
                gradebook.write_scores(grading_dir, result, stamp, student_id=gradebook_id(result.student))
        except Exception as e:  # noqa: BLE001
            _fail(result, "could not write the gradebook", e, log)
        _write_journal(a, result, grading_dir, log)


def _write_journal(a, result: SubmissionResult, grading_dir: Path, log) -> None:
    try:
        _write_atomic(journal_path(grading_dir, a.name, result.student),
                      json.dumps(result.to_dict(), indent=1, ensure_ascii=True))
    except Exception as e:  # noqa: BLE001
        _fail(result, "could not write the journal", e, log)


def _fail(result: SubmissionResult, what: str, e: Exception, log) -> None:
    why = f"{type(e).__name__}: {e}"[:200]
    result.status = f"error: {what}: {why}"
    try:
        log(f"{result.student!r}: {what}: {why} (the batch goes on)")
    except Exception:  # noqa: BLE001 - a log that cannot print the id
        pass


def gradebook_id(student: str) -> str:
    """The id stored in nbgrader's gradebook: the folder name, unless it cannot be stored as
    UTF-8 text within nbgrader's 128 characters (then :func:`safe_name`)."""
    try:
        student.encode("utf-8")
        return student if len(student) <= 128 else safe_name(student)
    except UnicodeEncodeError:
        return safe_name(student)


def autograde(assignment: str, *, root: Path | None = None, grading_dir: Path | None = None,
              submitted_dir: Path | None = None, students: list[str] | None = None,
              parallel: int | None = None, resume: bool = False, fast: bool | None = None,
              seed: int | None = None, html: bool = True, progress: bool = True,
              log=print, rotate: bool = False) -> BatchReport:
    """Grade every submission of ``assignment`` (see the module docstring)."""
    from coursekit.config import fast_mode
    from .release import course_root

    t0 = time.perf_counter()
    root = Path(root or course_root())
    grading_dir = Path(grading_dir or default_grading_dir()).resolve()
    grading_dir.mkdir(parents=True, exist_ok=True)
    submitted_dir = Path(submitted_dir or grading_dir / "submitted")
    fast = fast_mode() if fast is None else fast
    parallel = max(1, int(parallel or os.cpu_count() or 1))
    report = BatchReport(assignment)
    names = list_students(submitted_dir, assignment)
    if students:
        missing = sorted(set(students) - set(names))
        if missing:
            raise ValueError(f"no submission of {assignment} for {missing} in {submitted_dir}")
        names = [s for s in names if s in set(students)]
    report.backup = gradebook.backup(grading_dir)
    gradebook.ensure_assignment(grading_dir, root, assignment)
    batch, hidden_seed = batch_seed(grading_dir, assignment, resume, seed, rotate)
    report.batch = batch
    a = prepare(assignment, root, grading_dir, fast=fast, seed=hidden_seed)
    report.prepare_seconds = time.perf_counter() - t0

    todo = []
    for s in names:
        folder = submitted_dir / s / assignment
        if resume:
            old = load_journal(grading_dir, assignment, s)
            if old is not None and old.batch == batch and old.checksum == _checksum(folder):
                report.results[s] = old
                report.resumed.append(s)
                continue
        todo.append(s)
    if progress and report.resumed:
        log(f"resuming: {len(report.resumed)} already graded, {len(todo)} to go")

    bar = None
    if progress and todo:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(todo), desc=f"autograde {assignment}", unit="submission")
    book = gradebook.Writer(grading_dir) if todo else None
    try:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            futures = {pool.submit(_grade_and_write, a, s, submitted_dir / s / assignment, batch, grading_dir,
                                   html, log, report): s for s in todo}
            for fut in as_completed(futures):
                s = futures[fut]
                result = fut.result()
                commit(a, result, grading_dir, submitted_dir / s / assignment, log=log, book=book,
                       report=report)
                _progress(report, s, result, bar)
    finally:
        if book is not None:
            book.close()
    if bar is not None:
        bar.close()
    report.seconds = time.perf_counter() - t0
    return report


def _progress(report: BatchReport, s: str, result: SubmissionResult, bar) -> None:
    report.results[s] = result
    report.graded.append(s)
    if bar is not None:
        bar.update(1)
        try:
            bar.set_postfix_str(f"{s}: {result.status} {result.score:g}/{result.max_score:g}"
                                .encode("utf-8", "backslashreplace").decode("utf-8"))
        except Exception:  # noqa: BLE001 - a progress bar never stops the batch
            pass


def _grade_and_write(a, student: str, folder: Path, batch: str, grading_dir: Path, html: bool, log,
                     report: BatchReport) -> SubmissionResult:
    """In a worker: grade the submission, then write its feedback (off the single writer)."""
    with _Timed(report, "grade"):
        result = _safe_grade(a, student, folder, batch)
    write_feedback(a, result, grading_dir, folder, html, log, report)
    return result


def _safe_grade(a, student: str, folder: Path, batch: str) -> SubmissionResult:
    try:
        result = grade_submission(a, student, folder)
        result.batch = batch
        return result
    except Exception as e:  # noqa: BLE001 - a grader bug must not stop the batch
        r = SubmissionResult(student, a.name, f"error: grader failed ({type(e).__name__}: {e})"[:300],
                             max_score=a.max_score, checksum=_checksum(folder), batch=batch)
        from .runner import score_tests
        r.tests = score_tests(a, {}, reason=r.status)
        return r


def _checksum(folder: Path) -> str:
    try:
        return folder_checksum(folder)
    except Exception:  # noqa: BLE001 - an unreadable folder
        return ""
