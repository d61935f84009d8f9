import shutil
import subprocess
from pathlib import Path

import pytest

from tests.services import unavailable

ROOT = Path(__file__).resolve().parents[2]
AXE_VERSION = "4.10.3"
AXE_DIR = ROOT / "var" / "npm"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from the npm registry (installed once under var/npm), for WCAG audits."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("npm is not installed: axe-core cannot be fetched")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR), f"axe-core@{AXE_VERSION}"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0 or not script.exists():
            unavailable(f"axe-core could not be installed: {result.stderr[-300:]}")
    return script.read_text(encoding="utf-8")


@pytest.fixture
def axe_audit(axe_source):
    """Run axe-core on a page; return the violations of impact serious or critical."""

    def audit(page) -> list[dict]:
        # Evaluated through the DevTools protocol, not as an inline <script>: the pages' strict
        # Content-Security-Policy would (rightly) refuse that.
        page.evaluate(f"() => {{ {axe_source}\n; window.axe = axe; }}")
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    return audit
