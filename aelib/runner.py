"""Running notebooks headless: one fresh kernel per notebook, with its own environment.

:func:`run_notebook` executes a notebook top to bottom and returns how long it and each code cell
took. The kernel gets a copy of this process's environment with the run's settings added
(:func:`kernel_env`); the caller's ``os.environ`` is never changed. It talks to the kernel over
local IPC sockets in a private temporary folder rather than TCP, so nothing is sent over a network
port (and Jupyter's "running over TCP without encryption" warning has no cause).

TensorFlow's C++ start-up logs are quieted at the source with ``TF_CPP_MIN_LOG_LEVEL=3`` in the
kernel's environment. TensorFlow 2.21 still writes a few lines before its logging is initialised
(the ``absl::InitializeLog()`` notice, the oneDNN and CUDA-driver notes), whatever the environment
says; :func:`strip_startup_noise` removes exactly those lines (:data:`STARTUP_NOISE`) from the
executed notebook's stderr outputs. What the kernel process itself writes to stderr (not a cell's
output, which is captured into the notebook) is shown, less those lines, only when the run fails. Errors raised in a cell are Python exceptions and are reported in full.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .runtime import NATIVE_NOISE

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

# What a kernel's start-up writes that says nothing about the lesson: TensorFlow's native lines
# (one list, :data:`aelib.runtime.NATIVE_NOISE`) and Jupyter's warning about an unencrypted TCP
# connection (which the IPC transport used here should not give rise to anyway).
STARTUP_NOISE: tuple[str, ...] = (*NATIVE_NOISE, "Kernel is running over TCP without encryption")


def is_noise(line: str) -> bool:
    """Whether ``line`` is one of :data:`STARTUP_NOISE`'s lines."""
    return any(marker in line for marker in STARTUP_NOISE)


def plain(text: str) -> str:
    """``text`` without ANSI colour codes (tracebacks from a kernel carry them)."""
    return ANSI.sub("", text)


def kernel_env(profile: str, notebook: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a notebook's kernel starts with: ``base`` (default: a copy of
    ``os.environ``) with the profile, the notebook's name and quiet TensorFlow start-up logs, and
    without ``MPLBACKEND`` (a non-inline backend would drop every figure). ``base`` is not changed."""
    env = dict(os.environ if base is None else base)
    env["AELIB_PROFILE"] = profile
    env["AELIB_NOTEBOOK"] = notebook
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env.pop("MPLBACKEND", None)
    return env


def strip_startup_noise(nb) -> int:
    """Remove :data:`STARTUP_NOISE` lines from the stderr outputs of ``nb`` (in place); drop
    outputs left empty. Returns how many lines were removed."""
    removed = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                lines = out.get("text", "").splitlines(keepends=True)
                clean = [ln for ln in lines if not is_noise(ln)]
                removed += len(lines) - len(clean)
                if not clean:
                    continue
                out["text"] = "".join(clean)
            kept.append(out)
        cell["outputs"] = kept
    return removed


def _forward_kernel_log(path: str) -> None:
    """Print what the kernel process wrote to its stderr, less :data:`STARTUP_NOISE`."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return
    lines = [ln for ln in text.splitlines() if ln.strip() and not is_noise(ln)]
    if lines:
        print("\n".join(lines), file=sys.stderr)


class CellFailed(RuntimeError):
    """A notebook's cell raised; the message names the notebook, the cell and the error."""


class NotANotebook(ValueError):
    """A file given to :func:`run_notebook` cannot be read as a notebook."""


@dataclass
class NotebookRun:
    """How long one notebook took: in all, and per code cell (numbered from 1, as Jupyter shows)."""

    seconds: float
    cell_seconds: dict[int, float] = field(default_factory=dict)

    def slowest(self, n: int = 3) -> list[list]:
        ranked = sorted(self.cell_seconds.items(), key=lambda kv: -kv[1])[:n]
        return [[cell, round(secs, 1)] for cell, secs in ranked]


def read_notebook(path: Path):
    """``path`` as an nbformat v4 notebook.

    Raises:
        NotANotebook: the file is missing, not JSON or not a notebook (the message names it).
    """
    import nbformat

    path = Path(path)
    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises JSON, validation and OS errors alike
        why = plain(str(err)).strip().splitlines()
        raise NotANotebook(
            f"{path}: not a Jupyter notebook ({type(err).__name__}: {why[0] if why else err})"
        ) from None


def run_notebook(
    path: Path,
    profile: str,
    html_dir: Path | None = None,
    inplace: bool = False,
    timeout: int = 1800,
    progress: bool = True,
    env: dict[str, str] | None = None,
) -> NotebookRun:
    """Execute one notebook top to bottom in a fresh kernel; return how long it and each cell took.

    The kernel's environment is :func:`kernel_env` (this process's is left alone); TensorFlow's
    start-up lines are removed from the outputs (:func:`strip_startup_noise`). ``env`` adds
    variables to the kernel's environment (``$AELIB_RESULTS_DIR``, say).

    Raises:
        NotANotebook: ``path`` cannot be read as a notebook.
        CellFailed: a cell raised; the message names the notebook, the cell number and the error,
            as plain text.
    """
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = read_notebook(path)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(code_cells), desc=path.stem, unit="cell", leave=True, file=sys.stderr)

    cell_seconds: dict[int, float] = {}
    started: dict[int, float] = {}

    def on_cell_start(cell, cell_index, **_):
        started[cell_index] = time.perf_counter()

    def on_cell_executed(cell, cell_index, execute_reply=None, **_):
        if cell_index in started and cell_index in code_cells:
            number = code_cells.index(cell_index) + 1
            cell_seconds[number] = time.perf_counter() - started[cell_index]
        if bar is not None:
            bar.update(1)

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aelib-kernel-") as sockets:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "k"))
        client = NotebookClient(
            nb,
            km=km,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            on_cell_start=on_cell_start,
            on_cell_executed=on_cell_executed,
        )
        log_path = os.path.join(sockets, "kernel.log")
        finished = False
        try:
            with open(log_path, "wb") as log:
                kenv = {**kernel_env(profile, path.stem), **(env or {})}
                client.execute(env=kenv, stderr=log, cleanup_kc=True)
            finished = True
        except CellExecutionError as err:
            failing = next(
                (
                    i
                    for i, c in enumerate(nb.cells)
                    if c.cell_type == "code"
                    and any(o.get("output_type") == "error" for o in c.get("outputs", []))
                ),
                None,
            )
            number = code_cells.index(failing) + 1 if failing is not None else "?"
            lines = [ln for ln in plain(str(err)).strip().splitlines() if ln.strip()]
            raise CellFailed(
                f"{path.name}: code cell {number} of {len(code_cells)} failed: "
                f"{lines[-1] if lines else err}"
            ) from None
        finally:
            if bar is not None:
                bar.close()
            if km.has_kernel:
                km.shutdown_kernel(now=True)
            if not finished:  # the kernel's own log explains a failure; otherwise it is noise
                _forward_kernel_log(log_path)
    seconds = time.perf_counter() - start
    strip_startup_noise(nb)
    if inplace:
        import nbformat

        nbformat.write(nb, path)
    if html_dir is not None:
        from nbconvert import HTMLExporter

        html_dir.mkdir(parents=True, exist_ok=True)
        body, _ = HTMLExporter().from_notebook_node(nb)
        (html_dir / f"{path.stem}.html").write_text(body, encoding="utf-8")
    return NotebookRun(seconds, cell_seconds)
