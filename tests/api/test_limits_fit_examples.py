"""The default limits refuse none of the documents we publish: the console's examples, its
own introspection query, and every GraphQL block of the README and docs/."""

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from schema import schema
from schema.limits import DocumentLimits, limit_rules

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)
# The console's introspection query, as graphiql/console/schema.js builds it.
TYPE_REF = (
    "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"
)
CONSOLE_INTROSPECTION = f"""query ConsoleIntrospection {{ __schema {{
  queryType {{ name }} mutationType {{ name }} subscriptionType {{ name }}
  types {{ kind name description
    fields(includeDeprecated: true) {{ name description isDeprecated deprecationReason
      args {{ name description defaultValue type {{ {TYPE_REF} }} }} type {{ {TYPE_REF} }} }}
    inputFields {{ name description defaultValue type {{ {TYPE_REF} }} }}
    interfaces {{ name }} possibleTypes {{ name }}
    enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }}
  }} }} }}"""


def published() -> dict[str, str]:
    documents = {
        p.name: p.read_text() for p in sorted((ROOT / "graphiql/examples").glob("*.graphql"))
    }
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for i, block in enumerate(BLOCK.findall(page.read_text())):
            if "…" not in block:  # an outline in prose, not a document
                documents[f"{page.name} block {i + 1}"] = block
    documents["console introspection"] = CONSOLE_INTROSPECTION
    return documents


@pytest.mark.parametrize(("name", "document"), published().items())
def test_the_default_limits_accept_it(name: str, document: str) -> None:
    limits = DocumentLimits()
    parsed = parse(document, max_tokens=limits.max_tokens)
    errors = validate(schema._schema, parsed, limit_rules(limits))
    assert errors == [], name
