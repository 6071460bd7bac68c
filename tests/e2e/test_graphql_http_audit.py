"""The GraphQL over HTTP spec, checked by the graphql-http package's own server audits
(tests/audit, pinned in its package-lock.json) against a real `trackline serve`: every MUST
and every SHOULD passes."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_serve import Demo, demo  # noqa: F401  (the fixture)

AUDIT = Path(__file__).resolve().parents[1] / "audit"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is needed for the audits")
def test_every_must_and_should_of_graphql_over_http_passes(demo: Demo) -> None:  # noqa: F811
    if not (AUDIT / "node_modules" / "graphql-http").is_dir():
        pytest.fail("run `npm ci` in tests/audit first (bin/test does)")
    run = subprocess.run(
        ["node", str(AUDIT / "audit.mjs"), f"{demo.base}/graphql", demo.token],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = json.loads(run.stdout)
    required = [r for r in results if r["name"].startswith(("MUST", "SHOULD"))]
    failed = [r for r in required if r["status"] != "ok"]
    assert len(required) >= 36, results
    assert failed == [], failed
