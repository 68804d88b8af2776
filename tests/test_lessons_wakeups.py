"""``coursekit.lessons.execute`` survives lost ZeroMQ wake-ups on either side (the lesson-kernel
stall: kernel and client both idle until the cell timeout).

Each test plants the fault deterministically in a two-cell notebook and runs it with a short
watchdog tick; before the watchdog opened a new connection and polled the client's sockets,
the first test timed out and the second lost the last cell's output.
"""
import nbformat
import pytest

from coursekit import lessons

pytestmark = pytest.mark.slow  # two kernels, a few seconds each

# In the kernel: the next time a request waits on the shell socket, its edge-triggered signal
# is consumed and nothing is read (ipykernel 6: the shell is a ZMQStream on the tornado loop).
LOSE_ONE_KERNEL_WAKEUP = '''\
import zmq
_stream = get_ipython().kernel.shell_stream
_loop = _stream.io_loop

def _lose_one_wakeup(fd, events):
    if _stream.socket.get(zmq.EVENTS) & zmq.POLLIN:  # a request waits: leave it unread
        _loop.remove_handler(_stream.socket)
        _loop.add_handler(_stream.socket, _stream._handle_events, _loop.READ)

_loop.remove_handler(_stream.socket)
_loop.add_handler(_stream.socket, _lose_one_wakeup, _loop.READ)
'''


def _notebook(tmp_path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "wakeups.ipynb"
    nbformat.write(nb, path)
    return path


def _printed(run) -> list[str]:
    nb = nbformat.read(run.output, as_version=4)
    return [o.get("text", "") for c in nb.cells for o in c.get("outputs", [])]


def test_a_kernel_that_lost_a_wakeup_is_woken(tmp_path, monkeypatch):
    import ipykernel

    if ipykernel.version_info[0] != 6:
        pytest.skip("the planted fault needs ipykernel 6's ZMQStream shell")
    monkeypatch.setattr(lessons, "NUDGE_SECONDS", 0.5)
    path = _notebook(tmp_path, LOSE_ONE_KERNEL_WAKEUP, "print(41 + 1)")
    run = lessons.execute(path, tmp_path / "out", fast=True, cell_timeout=30)
    assert run.ok, run.status  # was: "cell timed out" after 30 s
    assert _printed(run) == ["42\n"]
    assert run.seconds < 20


def test_a_client_that_hears_no_wakeup_still_gets_every_message(tmp_path, monkeypatch):
    import zmq.asyncio

    monkeypatch.setattr(lessons, "NUDGE_SECONDS", 0.3)
    # The client's sockets never watch their file descriptors: every wake-up is lost.
    monkeypatch.setattr(zmq.asyncio.Socket, "_init_io_state", lambda self, io_loop=None: None)
    path = _notebook(tmp_path, "print('one')", "import time\ntime.sleep(0.5)\nprint('two')")
    run = lessons.execute(path, tmp_path / "out", fast=True, cell_timeout=30)
    assert run.ok, run.status
    assert _printed(run) == ["one\n", "two\n"]  # was: ["one\n"], 'two' lost after 37 s
    assert run.seconds < 20
