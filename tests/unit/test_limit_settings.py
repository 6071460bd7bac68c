"""The request limits come from the environment; production turns introspection off."""

import pytest

from trackline.settings import limits_from_env


def test_each_limit_has_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (
        ("TRACKLINE_MAX_DEPTH", "7"),
        ("TRACKLINE_MAX_ALIASES", "3"),
        ("TRACKLINE_MAX_TOKENS", "900"),
        ("TRACKLINE_MAX_COST", "1234"),
        ("TRACKLINE_MAX_BODY_BYTES", "4096"),
        ("TRACKLINE_MAX_UPLOAD_BYTES", "8192"),
    ):
        monkeypatch.setenv(name, value)
    limits = limits_from_env()
    document = limits.document
    assert (document.max_depth, document.max_aliases, document.max_tokens) == (7, 3, 900)
    assert (document.max_cost, limits.max_body_bytes, limits.max_upload_bytes) == (1234, 4096, 8192)


@pytest.mark.parametrize(
    ("environment", "introspection", "expected"),
    [
        ("", "", True),
        ("development", "", True),
        ("production", "", False),
        ("PRODUCTION", "", False),
        ("production", "true", True),
        ("", "false", False),
    ],
)
def test_introspection_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, environment: str, introspection: str, expected: bool
) -> None:
    monkeypatch.setenv("TRACKLINE_ENV", environment)
    monkeypatch.setenv("TRACKLINE_INTROSPECTION", introspection)
    assert limits_from_env().document.introspection is expected
