"""Open every notebook in JupyterLab in a real headless browser and check what a learner sees.

For each notebook in notebooks/ (NN_*.ipynb) this script checks that

1. JupyterLab renders it with every cell and no error dialog or error notification;
2. its committed figures display: as many <img> elements in the output areas as the file has image
   outputs, each decoded (natural width > 0);
3. its first two code cells run in a live kernel from the UI (select the cell, Ctrl+Enter): each
   goes through the busy prompt "[*]" to execution counts 1 and 2 of a fresh kernel, with no
   traceback in its output;

and saves screenshots under .browser-test/ (git-ignored): NN_name.png (the two cells after running)
and NN_name_figure.png (the first committed figure). Nothing is written back: autosave is off, the
server refuses every save (a pre-save hook; an attempted save fails the run), checkpoints go to a
temporary folder, and the checked notebooks' bytes and `git status --porcelain` are compared before
and after; any change fails the run.

JupyterLab runs on a free local port with a random token and its own temporary config, data,
runtime, settings and workspace folders, with AELIB_PROFILE=quick in the kernels' environment.
The browser is Debian's Chromium driven by /usr/bin/chromedriver (no driver downloads):
    apt-get install -y chromium chromium-driver

Usage: python tools/browser_test.py [NN ...]   (default: every notebook)
"""

from __future__ import annotations

import argparse
import hashlib
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
APT_HINT = "apt-get install -y chromium chromium-driver"

# Records every prompt text a cell shows, so that a busy "[*]" between two polls is not missed.
OBSERVE_JS = """
const prompts = arguments[0];
window.__prompts = prompts.map(() => []);
prompts.forEach((el, i) => {
  window.__prompts[i].push(el.textContent);
  new MutationObserver(() => window.__prompts[i].push(el.textContent))
    .observe(el, {childList: true, characterData: true, subtree: true});
});
"""

ERROR_DIALOG_JS = """
const out = [];
for (const d of document.querySelectorAll('.jp-Dialog')) out.push('dialog: ' + d.innerText.trim());
for (const t of document.querySelectorAll('.Toastify__toast--error'))
  out.push('error notification: ' + t.innerText.trim());
return out;
"""

IMAGES_JS = """
const panel = arguments[0];
return Array.from(panel.querySelectorAll('.jp-OutputArea-output img')).map(
  img => ({w: img.naturalWidth, h: img.naturalHeight, complete: img.complete}));
"""


def fail_setup(msg: str) -> None:
    print(f"browser-test: {msg}", file=sys.stderr)
    sys.exit(2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def digests(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def git_status(paths: list[Path]) -> str | None:
    """`git status --porcelain` of the notebooks, without taking the index lock; None outside git."""
    try:
        r = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--"]
            + [str(p.relative_to(ROOT)) for p in paths],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout if r.returncode == 0 else None


def expected_images(nb: dict) -> int:
    return sum(
        1
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        for out in cell.get("outputs", [])
        if any(k.startswith("image/") for k in out.get("data", {}))
    )


def write_lab_config(tmp: Path) -> dict[str, str]:
    """Temporary Jupyter folders: server config (saves refused), Lab settings (autosave off)."""
    dirs = {k: tmp / k for k in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for d in dirs.values():
        d.mkdir()
    (tmp / "checkpoints").mkdir()
    saves = tmp / "save-attempts.log"
    (dirs["config"] / "jupyter_server_config.py").write_text(
        f"""
from tornado.web import HTTPError

def refuse_save(model, path, contents_manager, **kwargs):
    with open({str(saves)!r}, "a") as f:
        f.write(path + "\\n")
    raise HTTPError(403, "saving is disabled in the browser test")

c.FileContentsManager.pre_save_hook = refuse_save
c.FileCheckpoints.checkpoint_dir = {str(tmp / "checkpoints")!r}
"""
    )
    settings = {
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        # all cells in the DOM, so every committed figure can be counted
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {
            "checkForUpdates": False,
            "fetchNews": "false",
        },
    }
    for name, value in settings.items():
        f = dirs["settings"] / f"{name}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    return {
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "IPYTHONDIR": str(dirs["ipython"]),
    }


def start_lab(tmp: Path, port: int, token: str, log) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("JUPYTER_PATH", None)
    env.update(write_lab_config(tmp))
    env["AELIB_PROFILE"] = "quick"
    env["AELIB_RESULTS_DIR"] = str(tmp / "results")
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={NOTEBOOKS}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--ServerApp.terminals_enabled=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI images often run as root
    proc = subprocess.Popen(cmd, cwd=NOTEBOOKS, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api/status"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {proc.returncode}")
        try:
            req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError("JupyterLab did not answer within 180 s")


def api(port: int, token: str, path: str, method: str = "GET"):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        headers={"Authorization": f"token {token}"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
    return json.loads(body) if body else None


def shutdown_sessions(port: int, token: str) -> None:
    try:
        for s in api(port, token, "/api/sessions"):
            api(port, token, f"/api/sessions/{s['id']}", method="DELETE")
    except OSError as e:
        print(f"  (could not shut down kernels: {e})")


def new_driver(tmp: Path, chromium: str, chromedriver: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--no-first-run",
        f"--user-data-dir={tmp / 'chromium'}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # an explicit driver path: Selenium Manager (which downloads drivers) is never called
    return webdriver.Chrome(service=Service(executable_path=chromedriver), options=opts)


def check_notebook(path: Path, port: int, token: str, tmp: Path, args, shots: Path) -> list[str]:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    nb = json.loads(path.read_text())
    n_cells = len(nb["cells"])
    code_idx = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"][:2]
    n_img = expected_images(nb)
    problems: list[str] = []

    shutil.rmtree(tmp / "chromium", ignore_errors=True)
    driver = new_driver(tmp, args.chromium, args.chromedriver)
    try:
        # a fresh workspace per notebook, so only this notebook is open
        ws = f"bt-{path.stem[:2]}-{secrets.token_hex(3)}"
        driver.get(f"http://127.0.0.1:{port}/lab/workspaces/{ws}/tree/{path.name}?token={token}")
        wait = WebDriverWait(driver, args.load_timeout, poll_frequency=0.5)
        t_load = time.time()

        def panel_ready(d):
            for panel in d.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel"):
                n = len(panel.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"))
                if panel.is_displayed() and n >= n_cells:
                    return panel
            return d.execute_script(ERROR_DIALOG_JS) and "dialog"

        try:
            panel = wait.until(panel_ready)
        except TimeoutException:
            driver.save_screenshot(str(shots / f"{path.stem}.png"))
            return [f"the notebook did not render {n_cells} cells within {args.load_timeout} s"]
        if panel == "dialog":
            driver.save_screenshot(str(shots / f"{path.stem}.png"))
            return [f"error on opening: {m}" for m in driver.execute_script(ERROR_DIALOG_JS)]
        cells = panel.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")
        load_s = time.time() - t_load

        # 2. committed figures: every image output present as a decoded <img>
        imgs = []
        deadline = time.time() + 60
        while time.time() < deadline:
            imgs = driver.execute_script(IMAGES_JS, panel)
            if len(imgs) >= n_img and all(i["complete"] and i["w"] > 0 for i in imgs):
                break
            time.sleep(0.5)
        decoded = sum(1 for i in imgs if i["complete"] and i["w"] > 0)
        fig_note = f"{decoded}/{n_img} figures decoded"
        if n_img and (len(imgs) < n_img or decoded < len(imgs)):
            problems.append(
                f"figures: the file has {n_img} image outputs, the page shows {len(imgs)} <img>, "
                f"{decoded} with natural width > 0"
            )
        if n_img and imgs:
            first = panel.find_element(By.CSS_SELECTOR, ".jp-OutputArea-output img")
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", first)
            time.sleep(0.5)
            driver.save_screenshot(str(shots / f"{path.stem}_figure.png"))

        # 3. run the first two code cells from the UI, in a fresh kernel
        targets = [cells[i] for i in code_idx]
        prompts = [c.find_element(By.CSS_SELECTOR, ".jp-InputPrompt") for c in targets]
        driver.execute_script(OBSERVE_JS, prompts)
        # the kernel JupyterLab started on opening must be up (toolbar indicator "idle")
        try:
            WebDriverWait(driver, args.load_timeout, 0.5).until(
                lambda d: d.execute_script(
                    "const e = arguments[0].querySelector('.jp-Notebook-ExecutionIndicator');"
                    "return e !== null && e.dataset.status === 'idle';",
                    panel,
                )
            )
        except TimeoutException:
            problems.append(f"the kernel was not idle within {args.load_timeout} s of opening")
        t_run, resent = time.time(), 0
        for k, (cell, prompt) in enumerate(zip(targets, prompts, strict=True)):
            for _attempt in range(3):
                driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell)
                prompt.click()  # selects the cell in command mode
                ActionChains(driver).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(
                    Keys.CONTROL
                ).perform()
                # a run cell shows "[*]" at once (queued or busy); press again if the keys were lost
                try:
                    WebDriverWait(driver, 5, 0.2).until(
                        lambda d, k=k: any(
                            "*" in t for t in d.execute_script("return window.__prompts")[k]
                        )
                    )
                    break
                except TimeoutException:
                    resent += 1

        def finished(d):
            seen = d.execute_script("return window.__prompts")
            dialogs = d.execute_script(ERROR_DIALOG_JS)
            if dialogs:
                return ("dialog", dialogs, seen)
            done = all(any("*" in s for s in hist) and "*" not in hist[-1] for hist in seen)
            return ("done", [], seen) if done else False

        try:
            state, dialogs, seen = WebDriverWait(driver, args.cell_timeout, 1).until(finished)
        except TimeoutException:
            seen = driver.execute_script("return window.__prompts")
            state, dialogs = "timeout", []
        run_s = time.time() - t_run
        finals = [hist[-1].strip() for hist in seen]
        if state == "timeout":
            problems.append(
                f"the first two code cells did not finish within {args.cell_timeout} s (prompts {finals})"
            )
        elif state == "dialog":
            problems.extend(f"error while running: {m}" for m in dialogs)
        else:
            if finals != ["[1]:", "[2]:"]:
                problems.append(
                    f"expected execution counts [1]: and [2]: in a fresh kernel, got {finals}"
                )
            for k, cell in enumerate(targets):
                text = " ".join(
                    e.text for e in cell.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output")
                )
                if "Traceback" in text or "Error:" in text.split("\n")[-1]:
                    problems.append(f"code cell {k + 1} raised: {text.strip()[-300:]}")

        # 1. no error dialog or error notification at any point
        problems.extend(f"error shown: {m}" for m in driver.execute_script(ERROR_DIALOG_JS))
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", targets[0])
        time.sleep(0.5)
        driver.save_screenshot(str(shots / f"{path.stem}.png"))

        severe = [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        print(
            f"  rendered {len(cells)} cells in {load_s:.0f} s; {fig_note}; "
            f"first two code cells {finals} in {run_s:.0f} s; "
            f"{len(severe)} severe browser-console messages"
            + (f"; Ctrl+Enter sent again {resent} times" if resent else "")
        )
        for m in severe[:5]:
            print(f"    console: {m[:200]}")
    finally:
        driver.quit()
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("prefixes", nargs="*", help="notebook name prefixes (default: all)")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    ap.add_argument("--shots", default=str(ROOT / ".browser-test"), help="screenshot folder")
    ap.add_argument("--load-timeout", type=float, default=120, help="seconds to render a notebook")
    ap.add_argument("--cell-timeout", type=float, default=240, help="seconds for the two cells")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (server log)")
    args = ap.parse_args()

    for exe in (args.chromium, args.chromedriver):
        if not (Path(exe).is_file() and os.access(exe, os.X_OK)):
            fail_setup(f"{exe} not found; install Chromium and its driver: {APT_HINT}")
    try:
        import jupyterlab  # noqa: F401
        import selenium  # noqa: F401
    except ImportError as e:
        fail_setup(f"{e.name} is missing; install the extras: pip install -e '.[lab,browser]'")

    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.prefixes:
        paths = [p for p in paths if any(p.name.startswith(x) for x in args.prefixes)]
    if not paths:
        fail_setup("no notebooks selected")

    shots = Path(args.shots)
    shots.mkdir(parents=True, exist_ok=True)
    for p in paths:  # no stale screenshots from an earlier run
        for f in (shots / f"{p.stem}.png", shots / f"{p.stem}_figure.png"):
            f.unlink(missing_ok=True)
    # the notebooks the browser opens (all of them by default) must not change
    before, git_before = digests(paths), git_status(paths)

    tmp = Path(tempfile.mkdtemp(prefix="aelib-browser-test-"))
    token, port = secrets.token_hex(24), free_port()
    log = open(tmp / "jupyterlab.log", "w")
    t0 = time.time()
    failures: dict[str, list[str]] = {}
    server = None
    try:
        server = start_lab(tmp, port, token, log)
        print(f"JupyterLab on 127.0.0.1:{port} ready in {time.time() - t0:.0f} s")
        for p in paths:
            t = time.time()
            print(f"{p.name}")
            try:
                problems = check_notebook(p, port, token, tmp, args, shots)
            except Exception as e:  # a crash of the check is a failure of that notebook
                problems = [f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"]
            shutdown_sessions(port, token)
            status = "ok" if not problems else "FAIL"
            print(f"  {status} in {time.time() - t:.0f} s; screenshot {shots / (p.stem + '.png')}")
            for m in problems:
                print(f"  - {m}")
            if problems:
                failures[p.name] = problems
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        log.close()

    attempts = tmp / "save-attempts.log"
    saved = attempts.read_text().split() if attempts.exists() else []
    if saved:
        failures.setdefault("saves", []).append(f"the browser tried to save: {sorted(set(saved))}")
    after, git_after = digests(paths), git_status(paths)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if changed:
        who = (
            ""
            if saved
            else " (the server got no save request: something outside the browser wrote them)"
        )
        failures.setdefault("files", []).append(
            f"notebook files changed during the test: {changed}{who}"
        )
    if git_before is not None and git_after != git_before:
        failures.setdefault("files", []).append(
            f"`git status --porcelain` of the notebooks changed:\n{git_before}---\n{git_after}"
        )

    print(f"\n{len(paths)} notebooks in {time.time() - t0:.0f} s; screenshots in {shots}/")
    if args.keep or failures:
        print(f"server log: {tmp / 'jupyterlab.log'}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"FAILED: {', '.join(failures)}")
        for k, v in failures.items():
            if k in ("saves", "files"):
                print("\n".join(v))
        return 1
    print("all notebooks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
