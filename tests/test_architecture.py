"""The services keep their direction (docs/ARCHITECTURE.md, "Services").

The contracts live in pyproject.toml (``[tool.importlinter]``): foundation < companies and
people < documents core < areas < reactions and demo, the areas independent of each other.
import-linter reads every import, those inside functions too, and follows indirect chains.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the contracts of pyproject.toml on the app package found in cwd."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command as c; c()",
            "--no-cache",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_do_the_services_keep_their_direction():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.fixture
def copy_of_the_app(tmp_path: Path) -> Path:
    """A copy of the app package and pyproject.toml, to break on purpose."""
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("*.pyc", "*.mo"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _add(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


@pytest.mark.parametrize(
    ("module", "addition", "broken"),
    [
        # The core calling an area, hidden in a function body: still an import.
        (
            "services/documents/storing.py",
            "\n\ndef _settle(note):\n    from app.services.disputes import disputes\n\n"
            "    return disputes.credit_note_linked\n",
            "Services: foundation",
        ),
        # One area calling another: broken twice (the layer's siblings, the independence).
        (
            "services/lifecycle/transitions.py",
            "\nfrom app.services.disputes import disputes  # noqa\n",
            "Areas do not import each other",
        ),
        # The foundation reaching up, even through a module outside the services.
        (
            "services/audit.py",
            "\nfrom app.web import auth  # noqa: it imports documents.trays\n",
            "Services: foundation",
        ),
    ],
)
def test_does_a_forbidden_import_break_a_contract(copy_of_the_app, module, addition, broken):
    _add(copy_of_the_app / "app" / module, addition)
    result = lint_imports(copy_of_the_app)
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout.split("Broken contracts")[-1].replace("\n", " ")


def test_is_a_new_service_module_placed_in_a_layer_on_purpose(copy_of_the_app):
    """A module the contract does not name (rebates, say) fails until it is given a layer."""
    (copy_of_the_app / "app" / "services" / "rebates.py").write_text('"""Payments."""\n')
    result = lint_imports(copy_of_the_app)
    assert result.returncode != 0
    assert "app.services.rebates" in result.stdout + result.stderr
