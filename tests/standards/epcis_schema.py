"""The GS1 EPCIS 2.0 JSON Schema (epcis/, copied from the gs1/EPCIS repository: see
epcis/SOURCE.md) as a validator that also checks the formats it relies on.

jsonschema checks a format only when it has a checker for it, and for `date-time` and
`uri` those come from optional packages. Without them every string would pass as an
instant or a URI: an EPC with a blank in it, an event time without a zone. So both are
checked here, to RFC 3339 and RFC 3986 at the level of characters.
"""

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import FormatChecker  # type: ignore[import-untyped]
from jsonschema.validators import validator_for  # type: ignore[import-untyped]

STANDARDS = Path(__file__).parent / "epcis"
SCHEMA = STANDARDS / "EPCIS-JSON-Schema.json"
EXAMPLES = sorted(STANDARDS.glob("*.jsonld"))

DATE_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)
URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
)

FORMATS = FormatChecker()


def is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats apply to strings only; `type` says what else is allowed
    match = DATE_TIME.fullmatch(value)
    if match is None:
        return False
    try:
        datetime.strptime(f"{match['date']} {match['time']}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return True


def is_uri(value: object) -> bool:
    return not isinstance(value, str) or URI.fullmatch(value) is not None


FORMATS.checks("date-time")(is_date_time)
FORMATS.checks("uri")(is_uri)


def load(path: Path) -> Any:
    return json.loads(path.read_text())


@cache
def epcis_validator() -> Any:
    """A validator of the class the schema's `$schema` names (draft-07)."""
    schema = load(SCHEMA)
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=FORMATS)


def schema_errors(document: Any) -> list[str]:
    """What is wrong with the document, one line per error: where, the schema keyword that
    failed, and the start of the message (which for `anyOf` repeats the whole event)."""
    return sorted(
        f"/{'/'.join(map(str, error.absolute_path))} [{error.validator}] {error.message[:200]}"
        for error in epcis_validator().iter_errors(document)
    )
