from collections import namedtuple
from types import SimpleNamespace

import strawberry
from strawberry import relay

from schema.nodes import Location
from schema.rows import FromRow


@strawberry.type
class Checked(FromRow):
    loader_name = "location_by_id"
    id: relay.NodeID[int]
    code: str

    def __post_init__(self) -> None:
        self.code = self.code.upper()


def test_built_objects_equal_those_built_by_init_from_core_rows_and_objects() -> None:
    # Columns in another order and one more: read by name, not by position.
    core_row = namedtuple("core_row", ["extra", "warehouse_id", "kind", "code", "id"])
    values = {"id": 7, "code": "A-01", "kind": "STORAGE", "warehouse_id": 3}
    by_init = Location(**values)  # type: ignore[arg-type]
    from_core = Location.from_row(core_row(0, 3, "STORAGE", "A-01", 7))
    from_object = Location.many([SimpleNamespace(**values), SimpleNamespace(**values)])
    assert type(from_core) is Location
    assert vars(from_core) == vars(by_init) == vars(from_object[0]) == vars(from_object[1])


def test_the_quick_build_is_taken_where_it_changes_nothing() -> None:
    assert Location._builder(None).__name__ == "build"
    assert Checked._builder(None).__name__ == "build_by_init"


def test_a_type_with_post_init_is_built_by_init() -> None:
    assert Checked.from_row(SimpleNamespace(id=1, code="a-01")).code == "A-01"
