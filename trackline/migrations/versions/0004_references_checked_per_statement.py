"""serials' and movements' references checked once per statement on PostgreSQL

PostgreSQL checks a foreign key by a trigger per written row: a query and a row lock on the
referenced row, for every key of every row. An import of 100,000 opening-stock serials
writes 200,000 rows naming six parents each and spent about two thirds of its time there
(docs/performance.md, "References checked per statement"). Here the keys of `serial` and
`movement`, the two tables bulk writes fill, become triggers that check what a statement
wrote at once:

- INSERT: once per statement, over the statement's rows (a transition table): the distinct
  ids each column names are locked FOR KEY SHARE, as PostgreSQL's own check locks them, and
  the statement is refused with foreign_key_violation (23503) if any is missing;
- UPDATE: per row, only when a key column changes (a WHEN condition, so an update that
  leaves the keys alone runs no function);
- DELETE, UPDATE of id, TRUNCATE of a referenced table: refused while a serial or movement
  still names the row (NO ACTION, as the keys had).

A writer's FOR KEY SHARE lock makes a concurrent delete of the parent wait for its commit
and then see the new row, as with the constraints. The deleting side's check sees rows
committed before it runs, which READ COMMITTED (the service's isolation, and psql's
default) gives; the service deletes none of these parents.

SQLite keeps the constraints: its checks are index probes inside the insert itself.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 01:30:00
"""

from collections import defaultdict
from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, referenced table): every foreign key of serial and movement, as 0001 made
# them (each names the referenced table's id).
REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("serial", "product_id", "product"),
    ("serial", "warehouse_id", "warehouse"),
    ("serial", "location_id", "location"),
    ("serial", "receiving_line_id", "receiving_line"),
    ("serial", "putaway_task_id", "putaway_task"),
    ("movement", "product_id", "product"),
    ("movement", "serial_id", "serial"),
    ("movement", "lot_id", "lot"),
    ("movement", "from_location_id", "location"),
    ("movement", "to_location_id", "location"),
    ("movement", "shipment_id", "shipment"),
)


def _by(position: int) -> dict[str, list[tuple[str, str, str]]]:
    grouped: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for reference in REFERENCES:
        grouped[reference[position]].append(reference)
    return grouped


def _missing(table: str, column: str, parent: str, key: str) -> str:
    """Refuse as PostgreSQL's own check does, with the key that names nothing."""
    return (
        f"RAISE foreign_key_violation USING "
        f"MESSAGE = 'insert or update on table \"{table}\" names a missing {parent}', "
        f"DETAIL = format('Key ({column})=(%s) is not present in table \"{parent}\".', {key}), "
        f"TABLE = '{table}', COLUMN = '{column}';"
    )


def _inserted_check(table: str, references: list[tuple[str, str, str]]) -> str:
    """Once per INSERT statement: every id the written rows name, distinct, locked at once."""
    declare = "".join(f"  {column}_named bigint[];\n" for _, column, _ in references)
    gather = ", ".join(
        f"array_agg(DISTINCT {column}) FILTER (WHERE {column} IS NOT NULL)"
        for _, column, _ in references
    )
    into = ", ".join(f"{column}_named" for _, column, _ in references)
    checks = "".join(
        f"  IF {column}_named IS NOT NULL AND (SELECT count(*) FROM (SELECT FROM {parent} "
        f"WHERE id = ANY ({column}_named) FOR KEY SHARE) AS held) < cardinality({column}_named)"
        f" THEN\n"
        f"    SELECT min(named) INTO missing FROM unnest({column}_named) AS named\n"
        f"      WHERE NOT EXISTS (SELECT FROM {parent} WHERE id = named);\n"
        f"    {_missing(table, column, parent, 'missing')}\n"
        f"  END IF;\n"
        for _, column, parent in references
    )
    return (
        f"CREATE FUNCTION {table}_references_exist() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"DECLARE\n{declare}  missing bigint;\nBEGIN\n"
        f"  SELECT {gather} INTO {into} FROM written;\n{checks}  RETURN NULL;\nEND $$"
    )


def _updated_check(table: str, references: list[tuple[str, str, str]]) -> str:
    """Per updated row whose keys changed (the trigger's WHEN calls nothing otherwise)."""
    checks = "".join(
        f"  IF NEW.{column} IS DISTINCT FROM OLD.{column} AND NEW.{column} IS NOT NULL THEN\n"
        f"    PERFORM FROM {parent} WHERE id = NEW.{column} FOR KEY SHARE;\n"
        f"    IF NOT FOUND THEN\n      {_missing(table, column, parent, f'NEW.{column}')}\n"
        f"    END IF;\n  END IF;\n"
        for _, column, parent in references
    )
    return (
        f"CREATE FUNCTION {table}_references_exist_on_update() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$\nBEGIN\n{checks}  RETURN NULL;\nEND $$"
    )


def _kept_check(parent: str, references: list[tuple[str, str, str]]) -> str:
    """A referenced row may not go, nor change its id, while a serial or movement names it;
    a referenced table may not be truncated while any does."""
    truncate = "".join(
        f"    IF EXISTS (SELECT FROM {table} WHERE {column} IS NOT NULL) THEN\n"
        f"      RAISE foreign_key_violation USING MESSAGE = "
        f"'cannot truncate \"{parent}\": {table}.{column} names its rows';\n    END IF;\n"
        for table, column, _ in references
    )
    row = "".join(
        f"  IF EXISTS (SELECT FROM {table} WHERE {column} = OLD.id) THEN\n"
        f"    RAISE foreign_key_violation USING MESSAGE = 'update or delete on table "
        f"\"{parent}\" leaves {table}.{column} naming a missing row', DETAIL = format('Key "
        f'(id)=(%s) is still referenced from table "{table}".\', OLD.id), '
        f"TABLE = '{parent}';\n  END IF;\n"
        for table, column, _ in references
    )
    return (
        f"CREATE FUNCTION {parent}_still_referenced() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n  IF TG_OP = 'TRUNCATE' THEN\n{truncate}    RETURN NULL;\n  END IF;\n"
        f"{row}  RETURN NULL;\nEND $$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, parent in REFERENCES:
        op.drop_constraint(f"fk_{table}_{column}_{parent}", table, type_="foreignkey")
    for table, references in _by(0).items():
        columns = [column for _, column, _ in references]
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        op.execute(_inserted_check(table, references))
        op.execute(
            f"CREATE TRIGGER {table}_references_exist AFTER INSERT ON {table} "
            f"REFERENCING NEW TABLE AS written FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {table}_references_exist()"
        )
        op.execute(_updated_check(table, references))
        op.execute(
            f"CREATE TRIGGER {table}_references_exist_on_update AFTER UPDATE OF "
            f"{', '.join(columns)} ON {table} FOR EACH ROW WHEN ({changed}) "
            f"EXECUTE FUNCTION {table}_references_exist_on_update()"
        )
    for parent, references in _by(2).items():
        op.execute(_kept_check(parent, references))
        function = f"{parent}_still_referenced()"
        op.execute(
            f"CREATE TRIGGER {parent}_still_referenced AFTER DELETE ON {parent} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}"
        )
        op.execute(
            f"CREATE TRIGGER {parent}_still_referenced_on_update AFTER UPDATE OF id ON {parent} "
            f"FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION {function}"
        )
        op.execute(
            f"CREATE TRIGGER {parent}_still_referenced_on_truncate BEFORE TRUNCATE ON {parent} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for parent in _by(2):
        for suffix in ("", "_on_update", "_on_truncate"):
            op.execute(f"DROP TRIGGER {parent}_still_referenced{suffix} ON {parent}")
        op.execute(f"DROP FUNCTION {parent}_still_referenced()")
    for table in _by(0):
        for suffix in ("", "_on_update"):
            op.execute(f"DROP TRIGGER {table}_references_exist{suffix} ON {table}")
            op.execute(f"DROP FUNCTION {table}_references_exist{suffix}()")
    for table, column, parent in REFERENCES:
        op.create_foreign_key(f"fk_{table}_{column}_{parent}", table, parent, [column], ["id"])
