"""The committed schema.graphql must be exactly what the code builds, so every API change
shows up in review. Regenerate with `.venv/bin/trackline export-schema`."""

from pathlib import Path

from schema import schema

SDL_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_sdl_matches_the_code() -> None:
    assert SDL_FILE.read_text() == schema.as_str() + "\n", (
        "schema.graphql is out of date: run `.venv/bin/trackline export-schema`"
    )
