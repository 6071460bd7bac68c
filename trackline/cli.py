"""The `trackline` command: serve, migrate, seed-demo, token, import, watch-serials, audit,
export-schema, purge-idempotency-keys."""

import asyncio
from pathlib import Path

import typer
import uvicorn
from rich.console import Console

from models.enums import Role
from services.idempotency import purge
from services.imports import ImportKind
from trackline.db import create_engines
from trackline.demo import seed_demo
from trackline.import_cli import PURPOSES, SerialPurpose, run_import
from trackline.migrate import upgrade_to_head
from trackline.observability import configure_logging
from trackline.settings import Settings

cli = typer.Typer(help="Serial-number and lot tracking for warehouses.", no_args_is_help=True)
console = Console()
# How long a stopping server lets requests in flight finish.
SHUTDOWN_GRACE_S = 5


def _database_url(database_url: str | None) -> str:
    return (
        Settings.from_env().database_url
        if database_url is None
        else Settings(database_url=database_url).database_url
    )


DatabaseOption = typer.Option(
    None, "--database-url", envvar="DATABASE_URL", help="Default: SQLite file var/trackline.sqlite3"
)


@cli.command()
def migrate(database_url: str | None = DatabaseOption) -> None:
    """Upgrade the database schema to the newest version."""
    url = _database_url(database_url)
    upgrade_to_head(url)
    console.print(f"[green]Database is up to date[/green] ({_safe(url)})")


async def _seed(url: str) -> bool:
    engines = create_engines(url)
    try:
        return await seed_demo(engines.sessions())
    finally:
        await engines.dispose()


@cli.command("seed-demo")
def seed_demo_command(database_url: str | None = DatabaseOption) -> None:
    """Load demo data (a warehouse, three products, two ASNs) into an empty database."""
    url = _database_url(database_url)
    upgrade_to_head(url)
    if asyncio.run(_seed(url)):
        console.print("[green]Demo data loaded.[/green]")
    else:
        console.print("Demo data not loaded: the database already has warehouses.")


@cli.command()
def serve(
    database_url: str | None = DatabaseOption,
    host: str = typer.Option("127.0.0.1", envvar="TRACKLINE_HOST"),
    port: int = typer.Option(8000, envvar="TRACKLINE_PORT"),
    demo: bool = typer.Option(False, help="Load the demo data first if the database is empty."),
    log_format: str = typer.Option(
        "text", envvar="TRACKLINE_LOG_FORMAT", help="json: one JSON object per line"
    ),
) -> None:
    """Migrate the database, then serve the API and the admin."""
    from trackline.app import create_app

    configure_logging(log_format)
    url = _database_url(database_url)
    upgrade_to_head(url)
    if demo and asyncio.run(_seed(url)):
        console.print("[green]Demo data loaded.[/green]")
    base = f"http://{host}:{port}"
    console.print(f"[bold]Trackline[/bold] on {_safe(url)}")
    if demo:
        from trackline.token_cli import DEMO_TOKEN_DAYS, demo_token

        token = demo_token(url)
        console.print(
            f"  Demo admin token {token}\n"
            f"                   (local use only; expires in {DEMO_TOKEN_DAYS} days, "
            "replaced at the next start)",
            soft_wrap=True,
        )
        console.print(f"  Admin            {base}/admin#token={token}", soft_wrap=True)
    else:
        console.print(f"  Admin            {base}/admin")
    console.print(f"  GraphQL console  {base}/graphql")
    console.print(f"  GraphQL endpoint {base}/graphql  (POST)")
    console.print(f"  Health           {base}/health, {base}/readyz, {base}/metrics")
    uvicorn.run(
        create_app(url),
        host=host,
        port=port,
        log_level="info",
        # Logging is configured above; the app logs each request itself, with its id.
        log_config=None,
        access_log=False,
        ws="websockets-sansio",
        # Event streams (subscriptions over SSE) never finish on their own: without a limit
        # a stop would wait for their clients for ever. After it they are cut, and an
        # EventSource reconnects (to another process, behind a load balancer).
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )


async def _purge(url: str) -> int:
    engines = create_engines(url)
    try:
        async with engines.sessions().begin() as session:
            return await purge(session)
    finally:
        await engines.dispose()


@cli.command("purge-idempotency-keys")
def purge_idempotency_keys(database_url: str | None = DatabaseOption) -> None:
    """Forget idempotency keys older than 24 hours (serve also does it once an hour)."""
    removed = asyncio.run(_purge(_database_url(database_url)))
    console.print(f"Removed {removed} idempotency keys older than 24 hours.")


@cli.command("watch-serials")
def watch_serials_command(
    url: str = typer.Option(
        "http://127.0.0.1:8000", envvar="TRACKLINE_URL", help="Where Trackline serves."
    ),
    sku: str | None = typer.Option(None, help="Only serials of this product."),
    serial: str | None = typer.Option(None, help="Only this serial number (exact)."),
    warehouse: str | None = typer.Option(None, help="Only this warehouse (code)."),
    status: list[str] = typer.Option([], help="Only changes into this status (repeatable)."),
    limit: int | None = typer.Option(None, help="Stop after this many changes."),
    token: str = typer.Option(..., envvar="TRACKLINE_TOKEN", help="An API token (viewer or more)."),
) -> None:
    """Print serial status changes as they commit (a live subscription over WebSocket)."""
    from trackline.watch import CONNECTION_ERRORS, WatchError, watch_serials

    errors = Console(stderr=True)
    try:
        asyncio.run(
            watch_serials(
                url,
                sku=sku,
                serial_number=serial,
                warehouse=warehouse,
                statuses=[s.upper() for s in status],
                show=lambda line: print(line, flush=True),
                notice=errors.print,
                limit=limit,
                token=token,
            )
        )
    except KeyboardInterrupt:
        pass
    except (WatchError, *CONNECTION_ERRORS) as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


import_app = typer.Typer(help="Import serials or lots from a CSV file: every row or none.")
cli.add_typer(import_app, name="import")
DryRunOption = typer.Option(False, "--dry-run", help="Check every row and write nothing.")
ReferenceOption = typer.Option(
    None, help="Names the import in the movement history (default CSV-<date>-<time>)."
)
ActorOption = typer.Option("import", envvar="TRACKLINE_ACTOR", help="Who is importing.")
ErrorsOption = typer.Option(None, "--errors", help="Write the rows at fault to this CSV file.")


@import_app.command("serials")
def import_serials(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The CSV file."),
    purpose: SerialPurpose = typer.Option(
        SerialPurpose.opening,
        help="opening: serials in stock at a location (sku or gtin, serial_number, warehouse, "
        "location); expected: serials an ASN line will bring (asn, line, serial_number); "
        "received: serials that arrived on an ASN line (asn, line, serial_number).",
    ),
    dry_run: bool = DryRunOption,
    reference: str | None = ReferenceOption,
    actor: str = ActorOption,
    errors: Path | None = ErrorsOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Import serial numbers: opening stock, or expected or received on ASN lines."""
    _import(PURPOSES[purpose], file, dry_run, reference, actor, errors, database_url)


@import_app.command("lots")
def import_lots(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The CSV file."),
    dry_run: bool = DryRunOption,
    reference: str | None = ReferenceOption,
    actor: str = ActorOption,
    errors: Path | None = ErrorsOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Import lot quantities in stock (sku or gtin, lot_number, expiry_date, quantity,
    warehouse, location)."""
    _import(ImportKind.OPENING_LOTS, file, dry_run, reference, actor, errors, database_url)


def _import(
    kind: ImportKind,
    file: Path,
    dry_run: bool,
    reference: str | None,
    actor: str,
    errors: Path | None,
    database_url: str | None,
) -> None:
    url = _database_url(database_url)
    upgrade_to_head(url)
    report = run_import(
        url,
        kind,
        file,
        dry_run=dry_run,
        reference=reference,
        actor=actor,
        errors_path=errors,
        console=console,
    )
    if not report.ok:
        raise typer.Exit(1)


token_app = typer.Typer(help="API tokens: create, list, revoke.")
cli.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., help="Who or what uses it, e.g. dock-3 or erp."),
    role: Role = typer.Option(
        ..., case_sensitive=False, help="viewer, operator, integrator, admin"
    ),
    expires_in_days: int | None = typer.Option(None, min=1, help="Default: never expires."),
    database_url: str | None = DatabaseOption,
) -> None:
    """Issue a token; its secret is printed once, alone on standard output."""
    from trackline.token_cli import create

    errors = Console(stderr=True)
    if not create(_database_url(database_url), name, role, expires_in_days, errors):
        raise typer.Exit(1)


@token_app.command("list")
def token_list(database_url: str | None = DatabaseOption) -> None:
    """Every token, without secrets."""
    from trackline.token_cli import list_all

    list_all(_database_url(database_url), console)


@token_app.command("revoke")
def token_revoke(token_id: int, database_url: str | None = DatabaseOption) -> None:
    """Revoke a token and every token it created."""
    from trackline.token_cli import revoke

    if not revoke(_database_url(database_url), token_id, console):
        raise typer.Exit(1)


audit_app = typer.Typer(help="Check the movement history.")
cli.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(database_url: str | None = DatabaseOption) -> None:
    """Recompute the movements' hash chain; exit 1 at the first broken movement."""
    from trackline.audit_cli import verify

    if not verify(_database_url(database_url), console):
        raise typer.Exit(1)


@cli.command("export-schema")
def export_schema(path: Path = typer.Argument(Path("schema.graphql"))) -> None:
    """Write the GraphQL SDL (checked by a test against the committed file)."""
    from schema import schema

    path.write_text(schema.as_str() + "\n")
    console.print(f"Wrote {path}")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    cli()
