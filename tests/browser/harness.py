"""Drive JupyterLab in a system Chromium: start a server, open notebooks, run cells, read state."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STATE_ENV = "ALW_TEST_STATE_DIR"


# The time from sending `code` (which prints the image_id it loads) to the kernel until the canvas
# marks that image drawn, in the page's clock; for page.evaluate(TIME_TO_DRAWN, code).
TIME_TO_DRAWN = """async (code) => {
    const stage = window.jupyterapp.shell.currentWidget.node.querySelector('.alw-stage');
    const drawn = [];
    const watch = new MutationObserver(
        () => drawn.push([performance.now(), stage.dataset.imageLoaded]));
    watch.observe(stage, {attributes: true, attributeFilter: ['data-image-loaded']});
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const start = performance.now();
    const future = kernel.requestExecute({code, store_history: false});
    let out = '';
    future.onIOPub = (msg) => { if (msg.header.msg_type === 'stream') out += msg.content.text; };
    await future.done;
    const id = out.trim();
    for (let i = 0; i < 600 && !drawn.some(([, v]) => v === id); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    watch.disconnect();
    const hit = drawn.find(([, v]) => v === id);
    return {id: Number(id), ms: hit ? hit[0] - start : null};
}"""


@dataclass
class LabServer:
    """A running JupyterLab subprocess and the folders it owns."""

    url: str
    token: str
    root: Path
    state_dir: Path
    proc: subprocess.Popen[bytes]
    log: Path
    tmp: Path = field(repr=False)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and remove its folders."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)


def chromium_path() -> str:
    """Return the system Chromium, or raise with the command that installs it."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: browser tests need Debian's Chromium; "
            "run `apt-get install -y chromium` (never `playwright install`)"
        )
    return CHROMIUM


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_lab(notebooks: Path = NOTEBOOKS, timeout: float = 60.0, app: str = "lab") -> LabServer:
    """Start JupyterLab (or Notebook 7: ``app="notebook"``) on a free port, serving a copy of ``notebooks``."""
    tmp = Path(tempfile.mkdtemp(prefix="alw-lab-"))
    root = tmp / "root"
    shutil.copytree(notebooks, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    state_dir = tmp / "state"
    state_dir.mkdir()
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # The flags below stop the fetching; this also stops the toast asking about news,
    # which would otherwise cover the bottom right of the page.
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        STATE_ENV: str(state_dir),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "IPYTHONDIR": str(tmp / "ipython"),
    }
    settings_class = "LabApp" if app == "lab" else "JupyterNotebookApp"
    args = [
        sys.executable,
        "-m",
        "jupyterlab" if app == "lab" else "notebook",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--{settings_class}.workspaces_dir={tmp / 'workspaces'}",
        f"--{settings_class}.user_settings_dir={tmp / 'settings'}",
        f"--{settings_class}.expose_app_in_browser=True",
    ]
    if app == "lab":
        args += [
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    log = tmp / "lab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    server = LabServer(f"http://127.0.0.1:{port}", token, root, state_dir, proc, log, tmp)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            text = log.read_text(errors="replace")
            server.stop()
            raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{text[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/status?token={token}", timeout=2):
                return server
        except OSError:
            time.sleep(0.3)
    text = log.read_text(errors="replace")
    server.stop()
    raise TimeoutError(f"JupyterLab did not answer within {timeout:.0f} s:\n{text[-3000:]}")


def launch_browser(playwright: Any) -> Any:
    """Launch the system Chromium through Playwright."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def open_notebook(page: Any, server: LabServer, name: str, timeout: float = 60.0) -> None:
    """Open ``name`` (relative to the server root) in JupyterLab and wait for its kernel."""
    page.goto(f"{server.url}/lab/tree/{name}?token={server.token}")
    wait_for_kernel(page, timeout)


def open_notebook_in_workspace(
    page: Any, server: LabServer, name: str, workspace: str, timeout: float = 60.0
) -> None:
    """Open ``name`` in its own named workspace, so tabs another page left open are not restored."""
    page.goto(f"{server.url}/lab/workspaces/{workspace}/tree/{name}?token={server.token}")
    page.wait_for_function(
        """(name) => {
            const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            return !!w && !!w.context && w.context.path === name;
        }""",
        arg=name,
        timeout=timeout * 1000,
    )
    wait_for_kernel(page, timeout)


def wait_for_kernel(page: Any, timeout: float = 60.0) -> None:
    """Wait until the current notebook has a kernel that is idle."""
    page.wait_for_function(
        """() => {
            const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            const k = w && w.sessionContext && w.sessionContext.session
                && w.sessionContext.session.kernel;
            return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
        }""",
        timeout=timeout * 1000,
    )


def run_cell(page: Any, index: int, timeout: float = 60.0) -> str:
    """Run cell ``index`` of the current notebook, wait for it to finish, return its output."""
    token = secrets.token_hex(4)
    page.evaluate(
        """([index, token]) => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            nb.activeCellIndex = index;
            window.__alwRuns = window.__alwRuns || {};
            window.__alwRuns[token] = 'running';
            // The command resolves only when the cell finishes: record that, never await it here.
            window.jupyterapp.commands.execute('notebook:run-cell').then(
                (ok) => { window.__alwRuns[token] = ok === false ? 'failed' : 'done'; },
                (err) => { window.__alwRuns[token] = 'error: ' + err; });
        }""",
        [index, token],
    )
    page.wait_for_function(
        "(t) => window.__alwRuns[t] !== 'running'", arg=token, timeout=timeout * 1000
    )
    result = page.evaluate("(t) => window.__alwRuns[t]", token)
    output = cell_output(page, index)
    if result != "done" or "Traceback" in output:
        raise RuntimeError(f"cell {index} did not run cleanly ({result}):\n{output}")
    return output


def cell_output(page: Any, index: int) -> str:
    """Return the text of cell ``index``'s output area."""
    return str(
        page.evaluate(
            """(i) => {
                const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
                const area = cell.node.querySelector('.jp-OutputArea');
                return area ? area.innerText : '';
            }""",
            index,
        )
    )


def notebook_summary(page: Any) -> dict[str, Any]:
    """Return the current notebook's mode, cell types and active cell index."""
    return dict(
        page.evaluate(
            """() => {
                const nb = window.jupyterapp.shell.currentWidget.content;
                return {mode: nb.mode, active: nb.activeCellIndex,
                        types: nb.widgets.map((w) => w.model.type)};
            }"""
        )
    )


def kernel_exec(page: Any, code: str, timeout: float = 120.0) -> str:
    """Execute ``code`` in the notebook's kernel (not as a cell) and return its stdout; raise if
    the kernel has not answered within `timeout` seconds (a test fails rather than hangs)."""
    result = page.evaluate(
        """async ([code, ms]) => {
            const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            const future = kernel.requestExecute({code, store_history: false});
            let out = '';
            let error = null;
            future.onIOPub = (msg) => {
                const t = msg.header.msg_type;
                if (t === 'stream') out += msg.content.text;
                else if (t === 'execute_result') out += msg.content.data['text/plain'];
                else if (t === 'error') error = msg.content.traceback.join('\\n');
            };
            const late = new Promise((resolve) => setTimeout(() => resolve('late'), ms));
            if ((await Promise.race([future.done, late])) === 'late') {
                error = `no answer from the kernel within ${ms / 1000} s`;
            }
            return {out, error};
        }""",
        [code, timeout * 1000],
    )
    if result["error"]:
        raise RuntimeError(f"kernel raised running {code!r}:\n{result['error']}")
    return str(result["out"])


def read_state(path: Path) -> dict[str, Any] | None:
    """Return the JSON state the kernel wrote to ``path``, or None if it is not there yet."""
    try:
        return dict(json.loads(path.read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def wait_for_state(
    path: Path,
    predicate: Callable[[dict[str, Any]], bool] = lambda s: True,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Poll the kernel-side state file until ``predicate(state)`` holds; raise on timeout."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = read_state(path)
        if state is not None and predicate(state):
            return state
        time.sleep(0.05)
    raise TimeoutError(f"state in {path} never matched within {timeout} s; last: {state}")


def screenshot(page: Any, name: str, locator: Any = None) -> Path:
    """Save a PNG under tests/browser/screenshots/ (of ``locator`` if given) and return its path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    (locator or page).screenshot(path=str(path))
    return path
