"""Find and execute the lecture notebooks (used by ``make course`` and the tests).

Each notebook runs top to bottom in a fresh kernel (nbclient) with the notebook's folder
as working directory; any error stops it and is reported with the failing cell.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .config import COURSE_REF, COURSE_REPO, repo_root


@dataclass
class LessonRun:
    """Outcome of executing one notebook."""

    name: str
    seconds: float
    status: str  # "ok" or "error: ..."
    output: Path | None = None
    claims: list = field(default_factory=list)  # records from coursekit.claims, in order
    figure_problems: list = field(default_factory=list)  # coursekit.figure_audit.notebook_problems
    figures: int = 0  # how many figures the notebook drew

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def course_files_dir() -> Path:
    """Where the lecture notebooks and the student release come from.

    The course checkout when coursekit runs from one (editable install, ``make``); otherwise the
    copies the wheel carries in ``coursekit/course_files/`` (``pip install``, Colab).
    """
    root = repo_root()
    if root is not None:
        return root
    packaged = Path(__file__).resolve().parent / "course_files"
    if (packaged / "notebooks").is_dir():
        return packaged
    raise FileNotFoundError("this coursekit install carries no lesson notebooks: install the wheel "
                            "(pip install coursekit) or work in a course checkout")


def copy_course(dest: str | os.PathLike, overwrite: bool = False) -> dict[str, list[Path]]:
    """Copy the lessons (``dest/lessons/NN_*.ipynb``) and the assignments' student release
    (``dest/assignments/aN_*/aN_*.ipynb`` and the visible-case pack ``aN_*.visible`` that
    ``coursekit check`` scores with) into ``dest`` for a student.

    A file that already exists in ``dest`` is the student's: it is kept unless ``overwrite``.
    Returns ``{"copied": [...], "kept": [...]}`` (destination paths).
    """
    src = course_files_dir()
    dest = Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"coursekit lessons: {dest} is a file; give a folder to copy the course into")
    plan = [(p, dest / "lessons" / p.name) for p in lesson_paths(src)]
    # each assignment's notebook and its visible-case pack (``coursekit check`` scores with it)
    plan += [(p, dest / "assignments" / p.parent.name / p.name)
             for pattern in ("*/*.ipynb", "*/*.visible")
             for p in sorted((src / "assignments").glob(pattern)) if ".ipynb_checkpoints" not in p.parts]
    report = {"copied": [], "kept": []}
    for source, target in plan:
        if target.exists() and not overwrite:
            report["kept"].append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        report["copied"].append(target)
    return report


def notebooks_dir(root: str | os.PathLike | None = None) -> Path:
    """The ``notebooks/`` folder of the course checkout (or of ``root``)."""
    base = Path(root) if root is not None else repo_root()
    if base is None:
        raise FileNotFoundError(
            "cannot find the course's notebooks/ folder: pass root= (the course checkout)"
        )
    return base / "notebooks"


def lesson_paths(root: str | os.PathLike | None = None) -> list[Path]:
    """The lecture notebooks ``notebooks/NN_*.ipynb`` in teaching order."""
    return sorted(p for p in notebooks_dir(root).glob("[0-9][0-9]_*.ipynb"))


@contextmanager
def _env(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(path: str | os.PathLike, out_dir: str | os.PathLike | None = None,
            fast: bool = True, cell_timeout: int = 900, html: bool = False) -> LessonRun:
    """Execute notebook ``path`` in a fresh kernel; raise nothing, return a :class:`LessonRun`.

    ``fast`` sets ``COURSEKIT_FAST=1`` in the kernel. With ``out_dir`` the executed
    notebook (and, with ``html=True``, an HTML page) is written there; the source notebook
    is never modified.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    # shutdown_kernel="immediate": the executed notebook is complete once the last cell replied;
    # a graceful shutdown was seen to stall for minutes after the last cell (cause unknown).
    # The figure audit (coursekit.figure_audit) records every Figure the kernel displays.
    from .figure_audit import KERNEL_ARGUMENT, figures_in_notebook, notebook_problems

    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=[KERNEL_ARGUMENT])
    start = time.perf_counter()
    status = "ok"
    # Fast mode runs beside other kernels (pytest -n 2): one OpenMP thread each, since
    # oversubscribed spinning threads made small torch models ~20x slower here.
    threads = {"OMP_NUM_THREADS": "1"} if fast else {}
    with _env(COURSEKIT_FAST="1" if fast else "0", MPLBACKEND="module://matplotlib_inline.backend_inline",
              PYDEVD_DISABLE_FILE_VALIDATION="1", **threads):
        try:
            _execute_with_nudges(client)
        except CellTimeoutError as exc:
            status = f"error: cell timed out ({exc})".splitlines()[0]
        except DeadKernelError:
            status = "error: kernel died"
        except CellExecutionError as exc:
            status = "error: " + _last_line(str(exc))
    seconds = time.perf_counter() - start
    from .claims import claims_in_notebook

    claims = claims_in_notebook(nb)
    written = None
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = out / path.name
        nbformat.write(nb, written)
        if html:
            from nbconvert import HTMLExporter

            body, _ = HTMLExporter().from_notebook_node(static_widgets(nb))
            written.with_suffix(".html").write_text(body, encoding="utf-8")
    return LessonRun(path.stem, seconds, status, written, claims, notebook_problems(nb), len(figures_in_notebook(nb)))


WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "[interactive explorer: open this notebook in Jupyter and run the cell to use it]"


def static_widgets(nb):
    """A copy of executed notebook ``nb`` for a static HTML page: each widget becomes the line
    :data:`WIDGET_NOTE`. (A widget on a page needs JavaScript from a CDN, so offline it showed
    nothing, and its text fallback is the repr of its whole tree of children.)"""
    import copy

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)  # the saved widget state: only a live widget page needs it
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_MIME in data:
                del data[WIDGET_MIME]
                data["text/plain"] = WIDGET_NOTE
    return nb


NUDGE_SECONDS = 5.0


def _execute_with_nudges(client) -> None:
    """``client.execute()`` with a watchdog that makes up for lost ZeroMQ wake-ups every
    :data:`NUDGE_SECONDS`.

    A ZeroMQ socket signals its file descriptor when its state changes, not while a message
    waits; an event loop that misses that signal (pyzmq's edge-triggered wake-up) leaves the
    message unread, and no later message on the same connection signals again. Seen here under
    load: kernel and client both idle until the cell timeout (lessons 03 and 07). So, every tick:

    - on the client's side, the shell and IOPub sockets are asked for their events, which makes
      pyzmq deliver a message that waits there to whoever waits for it;
    - on the kernel's side, a kernel_info request goes over a *new* shell connection: a new peer
      wakes the kernel's socket, which then reads every request waiting there. (A request over
      the client's own connection does not: that was this function's first version, and a
      kernel that had lost a wake-up slept through it.) The kernel answers it after the cell,
      to a connection already closed, and its status messages have another parent: nbclient
      ignores both.
    """
    import asyncio

    import zmq
    from jupyter_core.utils import run_sync

    async def watchdog():
        waker = None
        try:
            while True:
                await asyncio.sleep(NUDGE_SECONDS)
                kc = client.kc
                if kc is None:
                    continue
                try:
                    for channel in (kc.shell_channel, kc.iopub_channel):
                        sock = getattr(channel, "socket", None)
                        if sock is not None and not sock.closed:
                            sock.get(zmq.EVENTS)
                    if waker is not None:
                        waker.close(linger=0)
                    waker = kc.connect_shell()
                    kc.session.send(waker, kc.session.msg("kernel_info_request"))
                except zmq.ZMQError:  # the client is shutting down its sockets
                    waker = None
        finally:
            if waker is not None:
                waker.close(linger=0)

    async def run():
        task = asyncio.ensure_future(watchdog())
        try:
            await client.async_execute()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    run_sync(run)()


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "unknown error"


# ---------------------------------------------------------------------------------------------
# The set-up cell every lesson opens with (Colab, Binder, a fresh laptop), and the README's
# "Open in Colab" table: both generated from config.COURSE_REPO / COURSE_REF.

SETUP_TAG = "coursekit-setup"


def setup_cell_source() -> str:
    """The first code cell of every lesson: installs coursekit with its torch half (the pinned
    torch) only where coursekit is missing."""
    source = f"coursekit[torch] @ git+https://{COURSE_REPO}@{COURSE_REF}"  # the whole course: torch too
    return (
        "# Set-up: installs coursekit where it is missing (Colab, Binder, a new laptop); does nothing\n"
        "# where it is already installed or the machine is offline. Needs no change.\n"
        "import importlib.util, subprocess, sys\n"
        "if importlib.util.find_spec(\"coursekit\") is None:\n"
        f"    cmd = [sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"--retries\", \"1\", \"{source}\"]\n"
        "    ok = subprocess.run(cmd).returncode == 0\n"
        "    print(\"coursekit installed\" if ok else \"could not install coursekit (offline?): see the course README\")"
    )


def colab_url(path: Path) -> str:
    """The "Open in Colab" address of lesson ``path`` at the course's published version."""
    return f"https://colab.research.google.com/{COURSE_REPO.replace('github.com', 'github', 1)}/blob/{COURSE_REF}/notebooks/{Path(path).name}"


def colab_table(paths: list[Path]) -> str:
    """The README's markdown table of lessons with their Colab links."""
    rows = ["| lesson | open |", "|---|---|"]
    rows += [f"| {p.stem} | [Open in Colab]({colab_url(p)}) |" for p in paths]
    return "\n".join(rows)


def add_setup_cell(path: Path) -> bool:
    """Insert or refresh the set-up cell (right after the goals cell); True if the file changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    source = setup_cell_source()
    tagged = [c for c in nb.cells if SETUP_TAG in c.get("metadata", {}).get("tags", [])]
    if tagged and tagged[0].source == source:
        return False
    if tagged:
        tagged[0].source = source
    else:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": [SETUP_TAG]})
        nb.cells.insert(1, cell)
    nbformat.write(nb, path)
    return True


def refresh_published_links(root: Path | None = None) -> list[str]:
    """Rewrite every lesson's set-up cell and the README's Colab table; return what changed."""
    base = Path(root) if root is not None else repo_root()
    changed = [p.name for p in lesson_paths(base) if add_setup_cell(p)]
    readme = base / "README.md"
    text = readme.read_text(encoding="utf-8")
    begin, end = "<!-- colab-table -->", "<!-- /colab-table -->"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        new = f"{head}{begin}\n{colab_table(lesson_paths(base))}\n{end}{rest.split(end, 1)[1]}"
        if new != text:
            readme.write_text(new, encoding="utf-8")
            changed.append("README.md")
    return changed


if __name__ == "__main__":
    print("updated:", ", ".join(refresh_published_links()) or "nothing (all up to date)")
