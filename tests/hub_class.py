"""A class on JupyterHub for tests/test_jupyterhub.py: real system users, a student-side Python
outside the checkout, JupyterHub on 127.0.0.1 and nbgrader's exchange in a temporary folder.

Nothing a user of the class runs reads the checkout (CI clones under folders that may be 0700):
their Python is a venv in the class folder, on a system interpreter they can execute, holding
hard links (or copies) of the files of jupyterhub, nbgrader and their dependencies.
"""
from __future__ import annotations

import importlib.metadata as md
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COURSE_ID = "coursekit"
# what the users' servers run: the Hub's single-user server and nbgrader (its exchange,
# assignment list and formgrader extensions)
SERVER_PACKAGES = ("jupyterhub", "nbgrader")


# ---------------------------------------------------------------- what is needed, what is missing

def chp_command() -> str | None:
    """configurable-http-proxy: on PATH, or the Makefile's local install under .venv/chp."""
    local = ROOT / ".venv" / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"
    return shutil.which("configurable-http-proxy") or (str(local) if local.exists() else None)


def skip_reason() -> str | None:
    """Why the class cannot run here (None when it can)."""
    if not sys.platform.startswith("linux"):
        return "the class needs Linux system users"
    if os.geteuid() != 0:
        return "creating the class's system users (useradd) and spawning their servers needs root"
    for tool in ("useradd", "userdel", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} is missing"
    try:
        md.distribution("jupyterhub")
    except md.PackageNotFoundError:
        return "jupyterhub is not installed (pip install -e '.[dev]')"
    if chp_command() is None:
        return "configurable-http-proxy is missing (make test installs it from the npm registry)"
    if student_python() is None:
        return f"no Python {sys.version_info.major}.{sys.version_info.minor} that other users can execute"
    return None


def _runs_as_nobody(python: str) -> bool:
    r = subprocess.run(["runuser", "-u", "nobody", "--", python, "-c", "import sqlite3, ssl"],
                       capture_output=True, cwd="/")
    return r.returncode == 0


def student_python() -> str | None:
    """An interpreter of this Python's version that an unprivileged user can execute (this
    one's base may sit under /root, mode 0700)."""
    v = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    for cand in (str(base), f"/usr/bin/python{v}", f"/usr/local/bin/python{v}"):
        if Path(cand).is_file() and _runs_as_nobody(cand):
            return cand
    return None


# ---------------------------------------------------------------- the users' Python, outside the checkout

def _closure(names) -> dict[str, md.Distribution]:
    """The installed distributions ``names`` need (their requirements with the extras asked
    for, recursively)."""
    from packaging.requirements import Requirement

    seen: dict[str, md.Distribution] = {}
    extras_seen: dict[str, set] = {}
    todo = [(n, frozenset()) for n in names]
    while todo:
        name, extras = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen and extras <= extras_seen[key]:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen[key] = dist
        extras_seen[key] = extras_seen.get(key, set()) | set(extras)
        for r in dist.requires or []:
            req = Requirement(r)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in ("", *extras)):
                todo.append((req.name, frozenset(req.extras)))
    return seen


def build_env(dest: Path) -> Path:
    """A venv at ``dest`` on :func:`student_python` with the files of jupyterhub, nbgrader and
    their dependencies (hard links where possible), console scripts pointed at it; returns
    its ``bin`` folder."""
    old = os.umask(0o022)
    try:
        subprocess.run([student_python(), "-m", "venv", "--without-pip", str(dest)], check=True)
        dest = Path(os.path.abspath(dest))
        site = str(next((dest / "lib").glob("python3*/site-packages")))
        bindir, top = str(dest / "bin"), str(dest) + os.sep
        made = set()
        for dist in _closure(SERVER_PACKAGES).values():
            base = str(dist.locate_file(""))
            for f in dist.files or []:
                rel = str(f)
                if "__pycache__" in rel or os.path.isabs(rel):
                    continue
                target = os.path.normpath(os.path.join(site, rel))
                if not target.startswith(top):
                    continue  # a file outside the environment
                src = os.path.join(base, rel)
                parent = os.path.dirname(target)
                if parent not in made:
                    os.makedirs(parent, exist_ok=True)
                    made.add(parent)
                if parent == bindir:
                    _script(src, target, bindir)
                    continue
                _link(src, target)
                if rel.endswith(".py"):  # its compiled form too: users cannot write one here
                    d, name = os.path.split(rel)
                    pyc = os.path.join(d, "__pycache__", f"{name[:-3]}.{sys.implementation.cache_tag}.pyc")
                    if os.path.isfile(os.path.join(base, pyc)):
                        cache = os.path.join(parent, "__pycache__")
                        if cache not in made:
                            os.makedirs(cache, exist_ok=True)
                            made.add(cache)
                        _link(os.path.join(base, pyc), os.path.join(site, pyc))
    finally:
        os.umask(old)
    os.chmod(dest, 0o755)
    return dest / "bin"


def _link(src: str, target: str) -> None:
    try:
        os.link(src, target)
    except FileExistsError:
        pass
    except OSError:
        if os.path.isfile(src):
            shutil.copy2(src, target)


def _script(src: str, target: str, bindir: str) -> None:
    """A console script with its ``#!`` line pointed at the new environment's python."""
    try:
        text = Path(src).read_bytes()
    except OSError:
        return
    first, _, rest = text.partition(b"\n")
    if first.startswith(b"#!") and b"python" in first:
        text = b"#!" + os.path.join(bindir, "python").encode() + b"\n" + rest
    Path(target).write_bytes(text)
    os.chmod(target, 0o755)


# ---------------------------------------------------------------- system users

class SystemUsers:
    """Real users for the class (``useradd -m`` with homes under ``home_root``), removed with
    their homes and any process left behind when the context exits, even after a failure."""

    def __init__(self, names: list[str], home_root: Path):
        self.names, self.home_root, self.created = names, Path(home_root), []

    def __enter__(self) -> "SystemUsers":
        import pwd

        self.home_root.mkdir(parents=True, exist_ok=True)
        self.home_root.chmod(0o755)
        try:
            for name in self.names:
                try:
                    pwd.getpwnam(name)
                    raise RuntimeError(f"user {name} already exists; not touching it")
                except KeyError:
                    pass
                subprocess.run(["useradd", "-m", "-d", str(self.home_root / name), "-s", "/bin/bash",
                                "-K", "HOME_MODE=0700", name], check=True, capture_output=True)
                self.created.append(name)
                (self.home_root / name).chmod(0o700)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    @staticmethod
    def remove_stale(home_pattern: str) -> list[str]:
        """Remove users a killed run left behind: those whose home matches ``home_pattern``
        (a regular expression) and whose class folder no longer exists."""
        import pwd

        gone = []
        for entry in pwd.getpwall():
            m = re.fullmatch(home_pattern, entry.pw_dir)
            if m and not Path(m.group(1)).exists():
                subprocess.run(["userdel", "-f", entry.pw_name], capture_output=True)
                gone.append(entry.pw_name)
        return gone

    def home(self, name: str) -> Path:
        return self.home_root / name

    def uid(self, name: str) -> int:
        import pwd

        return pwd.getpwnam(name).pw_uid

    def __exit__(self, *exc) -> None:
        import pwd
        import signal

        for name in self.created:
            try:
                uid = pwd.getpwnam(name).pw_uid
            except KeyError:
                continue
            for _ in range(2):
                pids = [int(p) for p in subprocess.run(["pgrep", "-u", str(uid)], capture_output=True,
                                                       text=True).stdout.split()]
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                if pids:
                    time.sleep(0.5)
            subprocess.run(["userdel", "-f", "-r", name], capture_output=True)
        self.created = []


def run_as(user: str, args: list[str], env: dict, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """``args`` as ``user`` (runuser), with only ``env`` in the environment."""
    cmd = ["runuser", "-u", user, "--", "env", "-i"] + [f"{k}={v}" for k, v in env.items()] + args
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=180)
    if check and r.returncode != 0:
        raise AssertionError(f"{user}: {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def chown_tree(path: Path, user: str) -> None:
    subprocess.run(["chown", "-R", f"{user}:{user}", str(path)], check=True)


# ---------------------------------------------------------------- JupyterHub

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


HUB_CONFIG = """\
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.pid_file = {state!r} + "/proxy.pid"
c.JupyterHub.db_url = "sqlite:///" + {state!r} + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = {state!r} + "/cookie_secret"
c.JupyterHub.cleanup_servers = True
# local users: a shared password stands in for real authentication (PAM, OAuth, LTI...)
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = set({users!r})
c.Authenticator.admin_users = {{{instructor!r}}}
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.environment = {{"PATH": {path!r}}}
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.JupyterHub.services = [{{"name": "class-test", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "class-test", "services": ["class-test"],
                            "scopes": ["admin:users", "admin:servers", "access:servers"]}}]
"""


class Hub:
    """JupyterHub on 127.0.0.1 (run as root, so the local process spawner can start each
    user's server as that user), driven through its REST API with a service token."""

    def __init__(self, state: Path, users: list[str], instructor: str, env_bin: Path):
        self.state = Path(state)
        self.state.mkdir(parents=True, exist_ok=True)
        self.state.chmod(0o700)
        self.port, self.token, self.password = free_port(), secrets.token_hex(16), secrets.token_hex(8)
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = self.state / "jupyterhub_config.py"
        self.config.write_text(HUB_CONFIG.format(
            port=self.port, hub_port=free_port(), proxy_api_port=free_port(), chp=chp_command(),
            state=str(self.state), password=self.password, users=list(users), instructor=instructor,
            singleuser=str(env_bin / "jupyterhub-singleuser"), path=f"{env_bin}:/usr/bin:/bin",
            token=self.token))
        self.proc = None
        self.log = self.state / "jupyterhub.log"

    def start(self, timeout: float = 90) -> "Hub":
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        exe = Path(sys.executable).parent / "jupyterhub"
        self.proc = subprocess.Popen([str(exe), "-f", str(self.config)], cwd=self.state, env=env,
                                     stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited:\n{self.tail()}")
            try:
                if self.api("GET", "/").status_code == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"jupyterhub did not answer in {timeout} s:\n{self.tail()}")

    def tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def api(self, method: str, path: str, **kw):
        import requests

        return requests.request(method, f"{self.url}/hub/api{path}", timeout=60,
                                headers={"Authorization": f"token {self.token}"}, **kw)

    def request_server(self, user: str) -> None:
        r = self.api("POST", f"/users/{user}/server")
        if r.status_code not in (201, 202):
            raise RuntimeError(f"starting {user}'s server: {r.status_code} {r.text}\n{self.tail()}")

    def wait_server(self, user: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = (self.api("GET", f"/users/{user}").json().get("servers") or {}).get("", {})
            if server.get("ready"):
                return
            if not server.get("pending"):
                raise RuntimeError(f"{user}'s server failed to start:\n{self.tail()}")
            time.sleep(0.5)
        raise RuntimeError(f"{user}'s server not ready in {timeout} s:\n{self.tail()}")

    def user_api(self, user: str, method: str, path: str, **kw):
        """A request to ``user``'s own server, through the Hub's proxy."""
        import requests

        return requests.request(method, f"{self.url}/user/{user}/{path.lstrip('/')}", timeout=120,
                                headers={"Authorization": f"token {self.token}"}, **kw)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        import signal

        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
