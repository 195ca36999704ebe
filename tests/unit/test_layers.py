"""The layers and the no-cycle rule hold (import-linter contracts in pyproject.toml), and a
broken contract fails with the offending import named."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="pip install import-linter (requirements-dev.txt)")


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def _copy_tree(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("app", "models", "pipeline"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy)
    return copy


def test_every_import_contract_is_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract", "named"),
    [
        ("pipeline/segment/classes.py", "import torch", "pipeline never imports a model library",
         "pipeline.segment.classes -> torch"),
        ("pipeline/media/decode.py", "from pipeline.index import DataLayout", "pipeline stages",
         "pipeline.media.decode -> pipeline.index"),
        ("pipeline/core/atomic.py", "import gradio", "gradio is imported in app.ui only", "pipeline.core.atomic -> gradio"),
        ("app/ui/context.py", "from app.cli.output import EXIT_OK", "never through the CLI",
         "app.ui.context -> app.cli.output"),
        ("pipeline/segment/options.py", "from pipeline.segment.segmenter import segment", "no import cycles",
         ".options -> .segmenter"),
    ],
)
def test_a_broken_contract_fails_naming_the_import(tmp_path, module, line, contract, named):
    repo = _copy_tree(tmp_path)
    target = repo / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = _lint(repo)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(contract in row for row in broken), result.stdout
    assert named in result.stdout, result.stdout
