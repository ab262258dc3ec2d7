"""The claims audit: run notebooks with training switched off and see which claims still pass.

A *learned* claim (see :mod:`aelib.checks`) is evidence only if it would fail were the lesson false.
The cheapest way to make the lesson false is not to train: :func:`audit_notebook` runs a notebook in
the quick profile with ``$AELIB_AUDIT`` set, so :func:`aelib.setup` makes every Keras ``fit`` run zero
epochs and :func:`aelib.check` records each verdict instead of stopping. A learned claim that still
passes on the untrained models is a defect.

``aelib audit`` (``make audit``) prints a table per notebook and exits non-zero when a checked
notebook has a learned claim that passes untrained, fewer than :data:`MIN_LEARNED` learned claims
that fail untrained, or a cell that does not run with training off.
"""

from __future__ import annotations

import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import _validate
from .checks import AUDIT_VAR, KINDS

MIN_LEARNED = 4


@dataclass
class NotebookAudit:
    """The verdicts of one notebook's claims with training off."""

    notebook: str
    claims: list[dict] = field(default_factory=list)
    error: str | None = None

    def of_kind(self, kind: str) -> list[dict]:
        return [c for c in self.claims if c["kind"] == kind]

    @property
    def defects(self) -> list[dict]:
        """Learned claims that passed with untrained models."""
        return [c for c in self.of_kind("learned") if c["passed"]]

    @property
    def evidence(self) -> list[dict]:
        """Learned claims that failed with untrained models, as they should."""
        return [c for c in self.of_kind("learned") if not c["passed"]]

    def problems(self, min_learned: int = MIN_LEARNED) -> list[str]:
        """What makes this notebook fail the audit (empty when it passes)."""
        found = []
        if self.error:
            found.append(f"does not run with training off: {self.error}")
        if self.defects:
            found.append(f"{len(self.defects)} learned claim(s) pass with untrained models")
        if not self.error and len(self.evidence) < min_learned:
            found.append(
                f"{len(self.evidence)} learned claim(s) fail untrained; at least {min_learned} needed"
            )
        return found

    def as_dict(self) -> dict:
        return {
            "notebook": self.notebook,
            "error": self.error,
            "counts": {
                "learned_fail_untrained": len(self.evidence),
                "learned_pass_untrained": len(self.defects),
                "measured": len(self.of_kind("measured")),
                "fact": len(self.of_kind("fact")),
            },
            "claims": self.claims,
        }


def read_verdicts(path: Path | str) -> list[dict]:
    """The claims recorded in an audit file (JSON lines), in the order they were checked.

    Raises:
        ValueError: a line is not a claim record; the message names the file and the line.
    """
    claims = []
    text = Path(path).read_text(encoding="utf-8") if Path(path).exists() else ""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            ok = entry["kind"] in KINDS and isinstance(entry["passed"], bool)
        except (json.JSONDecodeError, KeyError, TypeError):
            ok = False
        if not ok:
            raise ValueError(f"{path}, line {number}: not a claim record: {line[:120]!r}")
        claims.append(entry)
    return claims


def audit_notebook(path: Path, timeout: int = 900) -> NotebookAudit:
    """Run one notebook (quick profile, training off) in a fresh kernel and collect its verdicts.

    The settings reach the kernel through its own environment, never this process's, so several
    notebooks can be audited at once (:func:`audit_notebooks`)."""
    from .cli import CellFailed, run_notebook

    result = NotebookAudit(path.stem)
    with tempfile.TemporaryDirectory(prefix="aelib-audit-") as tmp:
        verdicts = Path(tmp) / "claims.jsonl"
        # records of untrained models go nowhere
        env = {AUDIT_VAR: str(verdicts), "AELIB_RESULTS_DIR": tmp}
        try:
            run_notebook(path, "quick", timeout=timeout, progress=False, env=env)
        except CellFailed as err:
            result.error = str(err)
        result.claims = read_verdicts(verdicts)
    return result


def audit_notebooks(paths: list[Path], jobs: int = 1, timeout: int = 900):
    """Audit ``paths``, ``jobs`` notebooks at a time (each in its own kernel); return an iterator of
    each :class:`NotebookAudit` with its seconds, in the order of ``paths``.

    Raises:
        ValueError: ``jobs`` is not a whole number of at least 1 (checked before anything runs).
    """
    jobs = _validate.integer(jobs, "jobs", "audit_notebooks", minimum=1)

    def timed(path):
        start = time.perf_counter()
        result = audit_notebook(path, timeout)
        return result, time.perf_counter() - start

    def results():
        with ThreadPoolExecutor(max_workers=jobs) as pool:  # each worker waits on its own kernel
            futures = [pool.submit(timed, Path(path)) for path in paths]
            for future in futures:
                yield future.result()

    return results()


def report(audit: NotebookAudit, min_learned: int = MIN_LEARNED) -> str:
    """A plain-text table of one notebook's audit: every claim with its kind and verdict."""
    lines = [audit.notebook]
    if audit.error:
        lines.append(f"  ERROR {audit.error}")
    rows = [
        ("learned, fail untrained (evidence)", audit.evidence, "ok"),
        ("learned, PASS untrained (defect)", audit.defects, "DEFECT"),
        ("measured (not trained here)", audit.of_kind("measured"), "measured"),
        ("fact (true by construction)", audit.of_kind("fact"), "fact"),
    ]
    for title, claims, _ in rows:
        lines.append(f"  {title:38} {len(claims):3d}")
    for _, claims, tag in rows:
        for c in claims:
            lines.append(f"    [{tag:8}] {c['statement']}")
    problems = audit.problems(min_learned)
    verdict = "passes" if not problems else "; ".join(problems)
    lines.append(f"  audit: {verdict}")
    return "\n".join(lines)


def failing(audits: list[NotebookAudit], min_learned: int = MIN_LEARNED) -> list[NotebookAudit]:
    """The audited notebooks that fail the audit."""
    return [a for a in audits if a.problems(min_learned)]
