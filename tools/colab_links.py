"""Keep every "Open in Colab" badge and Colab install line on the repository named in pyproject.toml.

The address lives in one place, ``[project.urls] Repository`` in ``pyproject.toml``. This script checks
(``--check``, what the tests call) or rewrites (``--repo URL``, for a fork) the badge of every notebook
and README row, and each notebook's ``%pip install "aelib @ git+URL"`` line.

    python tools/colab_links.py --check
    python tools/colab_links.py --repo https://github.com/you/autoencoders   # a fork: rewrite all
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
BRANCH = "main"

_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")
BADGE = re.compile(
    r"https://colab\.research\.google\.com/github/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/blob/"
    r"[A-Za-z0-9_.-]+/notebooks/(?P<name>[0-9]{2}_[A-Za-z0-9_]+\.ipynb)"
)
INSTALL = re.compile(r"aelib @ git\+https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def owner_and_name(url: str) -> tuple[str, str]:
    match = _GITHUB.match(url.strip())
    if not match:
        raise ValueError(
            f"not a GitHub repository address: {url!r}; expected https://github.com/OWNER/NAME"
        )
    return match.group(1), match.group(2)


def repository(pyproject: Path = PYPROJECT) -> str:
    """The repository's address from ``[project.urls] Repository``."""
    meta = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    try:
        url = meta["project"]["urls"]["Repository"]
    except KeyError:
        raise ValueError(f"{pyproject}: no [project.urls] Repository entry") from None
    owner, name = owner_and_name(url)
    return f"https://github.com/{owner}/{name}"


def badge(repo: str, notebook: str) -> str:
    owner, name = owner_and_name(repo)
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/{BRANCH}/notebooks/{notebook}"


def install(repo: str) -> str:
    return f"aelib @ git+{repo}"


def files(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


def rewrite(text: str, repo: str) -> str:
    """``text`` with every badge and install line pointing at ``repo``."""
    text = BADGE.sub(lambda m: badge(repo, m.group("name")), text)
    return INSTALL.sub(install(repo), text)


def problems(root: Path = ROOT) -> list[str]:
    """Where a badge or an install line disagrees with pyproject's address, or a notebook has none."""
    repo = repository(root / "pyproject.toml")
    found = []
    for path in files(root):
        text = path.read_text(encoding="utf-8")
        if rewrite(text, repo) != text:
            found.append(f"{path.relative_to(root)}: a badge or install line is not on {repo}")
        if path.suffix == ".ipynb":
            if badge(repo, path.name) not in text:
                found.append(f"{path.relative_to(root)}: no Colab badge for this notebook")
            if install(repo) not in text:
                found.append(f"{path.relative_to(root)}: no Colab install line")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true", help="report disagreements; exit 1 if any")
    group.add_argument(
        "--repo", help="set the address (in pyproject.toml too) and rewrite all links"
    )
    args = parser.parse_args(argv)
    if args.check:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        if not found:
            print(f"every badge and install line points at {repository()}")
        return 1 if found else 0
    owner, name = owner_and_name(args.repo)
    repo = f"https://github.com/{owner}/{name}"
    meta = PYPROJECT.read_text(encoding="utf-8")
    meta = re.sub(r'(?m)^Repository = ".*"$', f'Repository = "{repo}"', meta)
    PYPROJECT.write_text(meta, encoding="utf-8")
    for path in files():
        text = path.read_text(encoding="utf-8")
        if rewrite(text, repo) != text:
            path.write_text(rewrite(text, repo), encoding="utf-8")
            print(f"rewrote {path.relative_to(ROOT)}")
    return 1 if problems() else 0


if __name__ == "__main__":
    sys.exit(main())
