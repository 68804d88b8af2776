"""Real-browser widget test: JupyterLab + headless Chromium drive all seven explorers.

One JupyterLab server (127.0.0.1, free port, token) and one Chromium (Playwright, Debian's
/usr/bin/chromium) for the whole module. The notebook it opens is a scratch notebook built
from the lessons: for each explorer, the lesson's own cell that shows it, copied verbatim
(plus, for lesson 14, the few lines that load its model and images). Running the seven
lessons themselves would take minutes (lessons 09 and 14 train and attribute); the explorers
do not depend on anything else the lessons compute.

Each test changes one control as a student would (slider by keyboard, checkbox, toggle
button, text box), waits until the displayed result is the value coursekit computes for
the new setting (computed here, in the test process), and saves a screenshot of the
explorer to build/browser/. In CI a missing Chromium or Playwright is a failure, not a skip.
"""
import ast
import inspect
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import numpy as np
import pytest

from conftest import ROOT

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic", "--disable-dev-shm-usage"]

# explorer -> the lesson whose cell shows it
LESSONS = {
    "conv_explorer": "01_convolution_and_arithmetic",
    "layer_stack": "02_parameter_counting",
    "kernel_playground": "03_numpy_cnn_layers",
    "bn_dropout_explorer": "07_batch_normalization",
    "augmentation_explorer": "09_data_augmentation",
    "optimizer_explorer": "10_optimization_and_schedules",
    "visualization_explorer": "14_visualizing_cnns",
}
# What lesson 14 has computed by the time it shows its explorer (its cells 2 and 4, reduced
# to the names the explorer's cell uses). Run in the kernel and here, for the expected values.
PREAMBLE = {"visualization_explorer": """\
import torch
from coursekit.config import pick
from coursekit.pretrain import SOURCE_CLASSES, shapes_subset
from coursekit.transfer import load_source_cnn

torch.set_num_threads(1)
model = load_source_cnn()
classes = model.meta["classes"]
x, y, masks = shapes_subset(SOURCE_CLASSES, "val", pick(400, 80), with_masks=True)
x, y = torch.from_numpy(x), torch.from_numpy(y)
"""}
NOTEBOOK = "explorers.ipynb"
SHOTS = ROOT / "build" / "browser"
WAIT = 120_000  # ms; a loaded 2-core machine is slow, a passing run is far below

KERNEL_IDLE = """() => { const w = window.jupyterapp.shell.currentWidget;
                         const k = w && w.sessionContext && w.sessionContext.session
                                   && w.sessionContext.session.kernel;
                         return k && k.status === 'idle'; }"""

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _need(msg: str):
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def _chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if path is None:
        _need("Chromium not found: `make test` installs it with apt-get (Debian package chromium)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the lessons' explorer cells
def _explorer_cell(name: str) -> str:
    """The source of the code cell of ``name``'s lesson that calls ``name(...)``."""
    nb = json.loads((ROOT / "notebooks" / f"{LESSONS[name]}.ipynb").read_text())
    calls = re.compile(rf"^[^#\n]*(?<![\w.]){name}\(", re.MULTILINE)
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    found = [s for s in cells if calls.search(s)]
    assert found, f"{LESSONS[name]} has no cell that calls {name}(...)"
    return found[0]


def _explorer_call(name: str) -> ast.Call:
    for node in ast.walk(ast.parse(_explorer_cell(name))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
            return node
    raise AssertionError(f"no call of {name} in its lesson cell")


def lesson_arguments(name: str) -> dict:
    """The arguments the lesson passes to explorer ``name``, bound to its parameters
    (defaults filled in), evaluated in the lesson's namespace (``PREAMBLE``)."""
    import coursekit.widgets as widgets

    ns: dict = {}
    exec(PREAMBLE.get(name, ""), ns)
    call = _explorer_call(name)
    value = lambda node: eval(compile(ast.Expression(node), name, "eval"), ns)  # noqa: E731
    args = [value(a) for a in call.args]
    kwargs = {k.arg: value(k.value) for k in call.keywords}
    bound = inspect.signature(getattr(widgets, name)).bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _scratch_notebook(path):
    nb = nbformat.v4.new_notebook()
    for name in LESSONS:
        nb.cells.append(nbformat.v4.new_markdown_cell(f"## {name} (lesson {LESSONS[name][:2]})"))
        if name in PREAMBLE:
            nb.cells.append(nbformat.v4.new_code_cell(PREAMBLE[name]))
        nb.cells.append(nbformat.v4.new_code_cell(f"from coursekit.widgets import {name}\n"
                                                  + _explorer_cell(name)))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


# ------------------------------------------------------------------ one server, one browser
def _warm_imports():
    import torch  # noqa: F401

    import coursekit.data.augment  # noqa: F401  (torchvision)
    from coursekit.widgets.kernel_playground import _default_images
    _default_images()  # scikit-image's photos


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server over the scratch notebook; yields (url, token)."""
    tmp = tmp_path_factory.mktemp("browser")
    work = tmp / "course"
    work.mkdir()
    _scratch_notebook(work / NOTEBOOK)
    # No "Jupyter news?" toast over the screenshots; every cell rendered (JupyterLab 4 leaves
    # cells out of view unrendered by default, and their text empty).
    settings = {"apputils-extension/notification": '{"fetchNews": "false"}',
                "notebook-extension/tracker": '{"windowingMode": "none"}'}
    for name, text in settings.items():
        f = tmp / "settings" / "@jupyterlab" / f"{name}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    # nbgrader's server and lab extensions are not what is tested, and cost seconds at start.
    nbgrader = [f"nbgrader.server_extensions.{e}" for e in
                ("formgrader", "validate_assignment", "assignment_list", "course_list")]
    (tmp / "cfg" / "labconfig").mkdir(parents=True)
    (tmp / "cfg" / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {e: False for e in nbgrader}}}))
    (tmp / "cfg" / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyter/nbgrader": True}}))
    port, token = _free_port(), "ck-browser-test"
    # The kernel draws with matplotlib's inline backend, as a student's does: not the Agg
    # backend these tests set for themselves (figures would show as "<Figure ...>" text).
    env = dict({k: v for k, v in os.environ.items() if k != "MPLBACKEND"}, COURSEKIT_FAST="1",
               JUPYTER_CONFIG_DIR=str(tmp / "cfg"), JUPYTER_RUNTIME_DIR=str(tmp / "rt"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "ws"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "lab.log", "wb")
    t0 = time.time()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    url = f"http://127.0.0.1:{port}"
    try:
        _warm_imports()  # while the server starts: the expected values need torch & co
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        print(f"\nJupyterLab up in {time.time() - t0:.1f} s")
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def page(lab):
    """Chromium on the scratch notebook with every cell run and every explorer shown."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("Playwright for Python is missing: pip install -e .[dev]")
    url, token = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        t0 = time.time()
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS, headless=True)
        try:
            pg = browser.new_page(viewport={"width": 1400, "height": 1000})
            pg.set_default_timeout(WAIT)
            pg.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}")
            pg.wait_for_function(
                "() => window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')")
            # Wait for the kernel, then run every cell through JupyterLab's own command.
            pg.wait_for_function(KERNEL_IDLE)
            pg.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # The last explorer shown means every cell has run (they run in order).
            try:
                pg.locator(".ck-visualization-explorer .ck-vis-info").wait_for(
                    state="attached", timeout=240_000)
            except Exception:  # a cell failed (JupyterLab stops there) or the kernel hung
                errors = pg.locator(".jp-OutputArea-output[data-mime-type*='stderr'], "
                                    ".jp-OutputArea-output[data-mime-type*='error']")
                pytest.fail("the explorers did not all show; errors in the notebook:\n"
                            + "\n".join(errors.all_inner_texts())[-3000:])
            pg.wait_for_function(f"() => document.querySelectorAll('.ck-explorer').length >= {len(LESSONS)}")
            pg.wait_for_function(KERNEL_IDLE)
            print(f"Chromium, notebook open and every cell run in {time.time() - t0:.1f} s")
            yield pg
        finally:
            browser.close()


# ------------------------------------------------------------------ helpers
def _text(page, selector: str) -> str:
    return page.locator(selector).first.inner_text()


def _wait_text(page, selector: str, pattern: str):
    """Wait until the text of ``selector`` matches the regular expression ``pattern``."""
    page.wait_for_function(
        "([sel, pat]) => { const e = document.querySelector(sel);"
        "                  return e && new RegExp(pat).test(e.innerText); }",
        arg=[selector, pattern])


def _wait_changed(page, selector: str, before: str):
    page.wait_for_function(
        "([sel, old]) => { const e = document.querySelector(sel);"
        "                  return e && e.innerText !== old; }", arg=[selector, before])
    page.wait_for_function(KERNEL_IDLE)  # the figure after the text


def _press_right(page, slider: str):
    """Move a slider one step right with the keyboard, as a student would."""
    handle = page.locator(f"{slider} .noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("ArrowRight")


def _shot(page, root: str, name: str):
    page.wait_for_function(KERNEL_IDLE)
    page.locator(root).first.screenshot(path=str(SHOTS / f"{name}.png"))


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


# ------------------------------------------------------------------ the seven explorers
def test_conv_explorer(page):
    from coursekit.arithmetic import conv_output_size

    a = lesson_arguments("conv_explorer")
    size = lambda stride: conv_output_size(a["size"], a["kernel_size"], stride=stride,  # noqa: E731
                                           padding=a["padding"], dilation=a["dilation"])
    before = _text(page, ".ck-output-size")
    assert re.search(rf"output size:\s*{size(a['stride'])}\b", before, re.I), before
    _press_right(page, ".ck-stride")
    expected = size(a["stride"] + 1)
    assert expected != size(a["stride"])
    _wait_text(page, ".ck-output-size", rf"output size:\s*{expected}\b")
    _shot(page, ".ck-conv-explorer", "conv_explorer")


def _stack_table(page) -> tuple[str, str]:
    """(the last layer's output shape, the total multiply-accumulates) as displayed."""
    return page.evaluate("""() => {
        const rows = [...document.querySelectorAll('.ck-stack-table tbody tr')];
        const last = rows[rows.length - 2].querySelectorAll('td');
        const total = rows[rows.length - 1].querySelectorAll('th');
        return [last[2].innerText, total[total.length - 1].innerText]; }""")


def test_layer_stack(page):
    from coursekit.arithmetic import stack_summary

    a = lesson_arguments("layer_stack")
    c, h, _ = a["input_shape"]

    def expected(size):
        s = stack_summary((c, size, size), a["layers"])
        return s._table()[-1][2], f"{s.total_macs:,}"

    assert tuple(_stack_table(page)) == expected(h)
    box = page.locator(".ck-in-size input").first
    box.scroll_into_view_if_needed()
    box.fill(str(h - 4))
    box.press("Enter")
    shape, macs = expected(h - 4)
    _wait_text(page, ".ck-stack-table", re.escape(shape))
    assert tuple(_stack_table(page)) == (shape, macs) != expected(h)
    _shot(page, ".ck-layer-stack", "layer_stack")


def test_kernel_playground(page):
    from coursekit.nn.kernels import apply_kernel, get_kernel
    from coursekit.widgets.kernel_playground import _default_images

    a = lesson_arguments("kernel_playground")
    image = _default_images()[a["image"]]

    def shape(stride):
        out = apply_kernel(image, get_kernel(a["kernel"]), stride, 1)
        return f"output {out.shape[0]}x{out.shape[1]}"

    info = ".ck-kernel-info"
    before = _text(page, info)
    assert f"input {image.shape[0]}x{image.shape[1]}" in before and shape(1) in before, before
    _press_right(page, ".ck-kernel-stride")
    _wait_text(page, info, rf"{shape(2)}\b")
    assert shape(2) != shape(1)
    _shot(page, ".ck-kernel-playground", "kernel_playground")


def _soft_labels(text: str) -> list[dict]:
    """'image 1: circle 0.86 + star 0.14; ...' -> [{'circle': 0.86, 'star': 0.14}, ...]"""
    rows = re.findall(r"image \d+: ([^;]+)", text)
    return [{w.rsplit(" ", 1)[0].strip(): float(w.rsplit(" ", 1)[1]) for w in r.split(" + ")}
            for r in rows]


def test_augmentation_explorer(page):
    from coursekit.data import SHAPES_CLASSES, augment_batch, augmentation, load, mix_batch
    from coursekit.data.augment import DEFAULT_STRENGTH

    a = lesson_arguments("augmentation_explorer")
    x, y = load("shapes", "val", n=a["n"])
    spec = {k: DEFAULT_STRENGTH[k] for k in ("hflip", "crop")}  # what the explorer starts with
    info = ".ck-aug-info"
    before = _text(page, info)
    assert before.startswith(f"{a['n']} images") and f"seed {a['seed']}" in before, before
    page.locator(".ck-aug-mix button", has_text="mixup").first.click()
    _wait_text(page, info, "^mixup")
    xa = augment_batch(x, augmentation(spec, size=x.shape[-2:]), seed=a["seed"])
    _, y_soft = mix_batch(xa, y, "mixup", num_classes=len(SHAPES_CLASSES), seed=a["seed"])
    shown = _soft_labels(_text(page, info))
    assert len(shown) == 6
    for row, want in zip(shown, y_soft):
        assert row == {SHAPES_CLASSES[k]: round(float(want[k]), 2)
                       for k in np.flatnonzero(want > 0)}
    _shot(page, ".ck-augmentation-explorer", "augmentation_explorer")


def test_bn_dropout_explorer(page):
    import torch

    from coursekit.models import deep_mlp, init_weights
    from coursekit.viz.activation_stats import activation_stats, layer_activations

    a = lesson_arguments("bn_dropout_explorer")
    assert a["x"] is None and not a["batchnorm"]
    x = torch.randn(512, a["width"], generator=torch.Generator().manual_seed(a["seed"]))
    torch.manual_seed(a["seed"])
    model = deep_mlp(a["width"], 10, depth=a["depth"], width=a["width"],
                     activation=a["activation"], batchnorm=True, dropout=a["dropout"])
    init_weights(model, a["init"], seed=a["seed"])
    torch.manual_seed(a["seed"])
    stats = activation_stats(layer_activations(model, x, train=True))
    summary = ".ck-bn-summary"
    before = _text(page, summary)
    page.locator(".ck-bn-batchnorm input").first.click()
    _wait_changed(page, summary, before)
    first, last_std, depth, zeros = (lambda v: (v[0], v[2], v[1], v[3]))(
        _numbers(_text(page, summary)))
    assert depth == len(stats["std"])
    assert abs(first - stats["std"][0]) < 2e-3 and abs(last_std - stats["std"][-1]) < 2e-3
    assert abs(zeros - 100 * stats["zero_frac"][-1]) < 0.2
    _shot(page, ".ck-bn-dropout-explorer", "bn_dropout_explorer")


def test_optimizer_explorer(page):
    from coursekit.optim import SURFACES, optimizer_path

    a = lesson_arguments("optimizer_explorer")
    summary = ".ck-opt-summary"
    before = _text(page, summary)
    _press_right(page, ".ck-opt-lr")
    lr = 10 ** (np.log10(0.1) + 0.05)  # one 0.05 step of the log slider from 0.1
    _wait_changed(page, summary, before)
    lines = _text(page, summary).splitlines()
    assert sorted(ln.split(":")[0] for ln in lines) == sorted(a["optimizers"]), lines
    for ln in lines:
        name = ln.split(":")[0]
        path = optimizer_path(a["surface"], name, lr=lr, steps=a["steps"])
        px, py = path[-1]
        loss = float(SURFACES[a["surface"]]["f"](px, py))
        steps, x, y, shown_loss = _numbers(ln.split(":", 1)[1])
        assert len(path) == a["steps"] + 1 and steps == a["steps"], ln
        assert abs(x - px) < 2e-3 and abs(y - py) < 2e-3, (ln, path[-1])
        assert abs(shown_loss - loss) <= 1e-3 * abs(loss) + 1e-9, (ln, loss)
    _shot(page, ".ck-optimizer-explorer", "optimizer_explorer")


def test_visualization_explorer(page):
    from coursekit import viz
    from coursekit.metrics import predict_proba

    a = lesson_arguments("visualization_explorer")
    model, images, labels, classes, masks = (a[k] for k in ("model", "images", "labels",
                                                            "classes", "masks"))
    info = ".ck-vis-info"
    before = _text(page, info)
    _press_right(page, ".ck-vis-index")
    i = 1
    probs = predict_proba(model, images[i:i + 1])[0]
    pred = int(probs.argmax())
    heat = viz.grad_cam(model, images[i:i + 1], pred)[0]
    m = np.asarray(masks[i:i + 1])
    hit = bool(viz.pointing_game(heat[None], m)[0])
    share = float(viz.energy_in_mask(heat[None], m)[0])
    _wait_changed(page, info, before)
    text = _text(page, info)
    assert re.search(rf"predicted: {classes[pred]} \((\d+)%\), true: {classes[int(labels[i])]}",
                     text), text
    shown_p, shown_share, area = (_numbers(text.split("(", 1)[1])[0],
                                  *_numbers(text.split("energy inside object:", 1)[1])[:2])
    assert abs(shown_p - 100 * probs[pred]) <= 0.51
    assert ("pointing game: hit" if hit else "pointing game: miss") in text
    assert abs(shown_share - 100 * share) <= 0.51 and abs(area - 100 * m.mean()) <= 0.51, text
    _shot(page, ".ck-visualization-explorer", "visualization_explorer")
