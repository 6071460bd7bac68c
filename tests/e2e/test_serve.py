"""The README's first command, end to end: `trackline serve --demo` on a fresh SQLite file
migrates, loads the demo data, serves the API and the local console."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

TRACKLINE = Path(sys.executable).parent / "trackline"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Demo:
    base: str
    token: str


def _demo_token(process: subprocess.Popen[str]) -> str:
    """The token `serve --demo` prints before it starts serving."""
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        found = re.search(r"Demo admin token (tl_\S+)", line)
        if found:
            return found.group(1)
    pytest.fail(f"no demo token was printed: {''.join(seen)}")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
    process = subprocess.Popen(
        [str(TRACKLINE), "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        token = _demo_token(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not answer within 30 s")
        yield Demo(base, token)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
        print(output)


QUERY = (
    '{ warehouses { code } product(sku: "LAPTOP-14") { serialTracked '
    "serials(first: 10) { nodes { serialNumber status } } } }"
)


def test_serve_demo_answers_graphql_and_serves_an_offline_console(demo: Demo) -> None:
    server = demo.base
    anonymous = httpx.post(f"{server}/graphql", json={"query": QUERY}).json()
    assert "data" not in anonymous
    assert {e["extensions"]["code"] for e in anonymous["errors"]} == {"UNAUTHENTICATED"}

    answer = httpx.post(
        f"{server}/graphql",
        json={"query": QUERY},
        headers={"Authorization": f"Bearer {demo.token}"},
    ).json()
    assert answer["data"]["warehouses"] == [{"code": "MAIN"}]
    statuses = {s["status"] for s in answer["data"]["product"]["serials"]["nodes"]}
    assert statuses == {"IN_INVENTORY", "EXPECTED"}

    page = httpx.get(f"{server}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "<title>Trackline" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets
    assert all(a.startswith("/graphiql/") for a in assets), assets
    for asset in assets:
        body = httpx.get(f"{server}{asset}").text
        assert not re.search(r"https?://", body), f"{asset} names an outside address"
