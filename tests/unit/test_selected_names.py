from graphql import parse

from schema.loading import selected_names


def test_every_field_name_counts_in_fragments_and_inline_fragments_too() -> None:
    document = parse("""
      query { products(first: 1) { nodes { ...ProductHistory } } }
      fragment ProductHistory on Product {
        serials { nodes { ... on Serial { movements { toLocation { code } } } } }
      }
    """)
    assert selected_names(document) >= {"products", "serials", "movements", "toLocation"}
    assert "location" not in selected_names(document)


def test_the_answer_is_kept_for_the_same_document_only() -> None:
    first = parse('{ serial(sku: "A", serialNumber: "1") { location { code } } }')
    second = parse('{ serial(sku: "A", serialNumber: "1") { status } }')
    assert "location" in selected_names(first)
    assert "location" in selected_names(first)  # from the cache
    assert "location" not in selected_names(second)
