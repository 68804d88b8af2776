"""Real-browser widget test: JupyterLab + headless Chromium drive the conv arithmetic explorer.

Starts JupyterLab on 127.0.0.1 (free port, token) over a scratch copy of notebook 01, runs
all cells in Chromium (Playwright, Debian's /usr/bin/chromium), moves the stride slider and
checks that the displayed output size changes to the value coursekit.arithmetic computes.
A screenshot goes to build/browser/. In CI a missing Chromium is a failure, not a skip.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from coursekit.arithmetic import conv_output_size

from conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "01_convolution_and_arithmetic.ipynb"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic", "--disable-dev-shm-usage"]

KERNEL_IDLE = """() => { const w = window.jupyterapp.shell.currentWidget;
                         const k = w && w.sessionContext && w.sessionContext.session
                                   && w.sessionContext.session.kernel;
                         return k && k.status === 'idle'; }"""

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if path is None:
        msg = "Chromium not found: `make test` installs it with apt-get (Debian package chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server over a scratch copy of notebook 01; yields (url, token)."""
    work = tmp_path / "course"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    # No "Jupyter news?" toast over the screenshot.
    news = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port, token = _free_port(), "ck-browser-test"
    env = dict(os.environ, COURSEKIT_FAST="1",
               JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "lab.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _output_size(page) -> int:
    text = page.locator(".ck-output-size").first.inner_text()
    m = re.search(r"output size:\s*(\d+)", text, re.IGNORECASE)
    assert m, f"the explorer's output-size display does not say 'output size: N': {text!r}"
    return int(m.group(1))


def test_conv_explorer_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    url, token = lab
    shots = ROOT / "build" / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
            page.wait_for_function(
                "() => window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')",
                timeout=120_000)
            # Wait for the kernel, then run every cell through JupyterLab's own command.
            page.wait_for_function(KERNEL_IDLE, timeout=120_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            stride = page.locator(".ck-stride").first
            stride.wait_for(state="visible", timeout=240_000)
            page.wait_for_selector(".ck-output-size", timeout=60_000)
            stride.scroll_into_view_if_needed()
            before = _output_size(page)
            assert before == conv_output_size(7, 3, stride=1), "default explorer state changed"
            # Move the slider one step right with the keyboard, as a student would.
            stride.locator(".noUi-handle").first.focus()
            page.keyboard.press("ArrowRight")
            expected = conv_output_size(7, 3, stride=2)
            page.wait_for_function(
                f"""() => /output size:\\s*{expected}\\b/i.test(
                        document.querySelector('.ck-output-size').innerText)""", timeout=60_000)
            assert _output_size(page) == expected != before
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)  # let the grid redraw
            page.screenshot(path=str(shots / "conv_explorer.png"), full_page=False)
        finally:
            browser.close()
