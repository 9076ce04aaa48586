"""The canvas's front end: sources in js/src/, bundled by esbuild into js/canvas.js (committed).

The widget loads the one bundle (anywidget cannot resolve imports between files), so the
committed js/canvas.js must be exactly what scripts/build_js.sh builds from js/src/ with the
pinned tools; these tests rebuild it in a scratch copy of js/ (npm ci, then esbuild) and
type-check the sources with TypeScript (--checkJs --strict). They need Node.js and npm.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
JS = REPO / "js"
SOURCES = sorted((JS / "src").glob("*.js"))
MAX_LINES = 400

needs_npm = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js and npm are needed to rebuild js/canvas.js (scripts/build_js.sh)",
)


@pytest.fixture(scope="module")
def built_js(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of js/ (without node_modules) with the pinned tools installed by `npm ci`."""
    js = tmp_path_factory.mktemp("js") / "js"
    shutil.copytree(JS, js, ignore=shutil.ignore_patterns("node_modules"))
    npm = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    subprocess.run(npm, cwd=js, check=True, timeout=300)
    return js


def test_every_source_module_is_short_and_opens_with_its_job() -> None:
    assert len(SOURCES) > 10, "js/src/ holds the canvas's modules"
    for path in SOURCES:
        text = path.read_text()
        lines = text.splitlines()
        assert len(lines) <= MAX_LINES, f"{path.name}: {len(lines)} lines"
        assert lines[0] == "// @ts-check", path.name
        header = re.match(r"/\*\*\s*\n?\s*\*?\s*(\w.*)", "\n".join(lines[1:3]))
        assert header, f"{path.name}: no header comment saying the module's job"


def test_widget_loads_the_committed_bundle() -> None:
    from al_widget.widget.canvas import Canvas

    assert str(Canvas._esm) == (JS / "canvas.js").read_text()
    assert str(Canvas._esm).startswith("// Built from js/src/ by scripts/build_js.sh")


@pytest.mark.slow
@needs_npm
def test_committed_bundle_is_exactly_the_build_of_the_sources(built_js: Path) -> None:
    out = built_js / "rebuilt.js"
    subprocess.run(["node", "build.mjs", str(out)], cwd=built_js, check=True, timeout=120)
    assert out.read_text() == (JS / "canvas.js").read_text(), (
        "js/canvas.js is not the build of js/src/: run scripts/build_js.sh and commit js/canvas.js"
    )


@pytest.mark.slow
@needs_npm
def test_sources_pass_the_strict_type_check(built_js: Path) -> None:
    tsc = built_js / "node_modules" / ".bin" / "tsc"
    result = subprocess.run(
        [str(tsc), "-p", "."], cwd=built_js, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
