"""Recall as the API offers it: lots named by global id or by SKU and lot number."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from models import Lot, Product
from resolvers.context import Context
from resolvers.ids import decode
from resolvers.outcome import Refusal, attempt
from services import recall
from services.errors import ErrorCode, Problems, Refused
from services.identifiers import lot_key
from services.recall import LotRecall

# More than a recall names in practice, few enough for one IN list on either engine.
MAX_LOTS = 1000


@dataclass(frozen=True)
class LotRefArgs:
    sku: str
    lot_number: str


@dataclass(frozen=True)
class NamedLots:
    """The lots a request names: ids, each with the input path that named it."""

    ids: list[int]
    paths: list[str]


async def named_lots(
    session: AsyncSession,
    lot_gids: list[relay.GlobalID],
    lots: list[LotRefArgs],
    problems: Problems,
) -> NamedLots:
    """Lots named by id (`lotIds.<i>`) and by SKU and number in any case (`lots.<i>`);
    a problem for each that cannot be one. Ids are not checked here: the use case does."""
    if not lot_gids and not lots:
        problems.add(ErrorCode.INVALID_VALUE, "name at least one lot: lotIds or lots", "lotIds")
    if len(lot_gids) + len(lots) > MAX_LOTS:
        problems.add(ErrorCode.INVALID_VALUE, f"at most {MAX_LOTS} lots at a time", "lotIds")
        return NamedLots([], [])
    named = NamedLots([], [])
    for i, gid in enumerate(lot_gids):
        try:
            named.ids.append(decode(gid, "Lot", f"lotIds.{i}"))
            named.paths.append(f"lotIds.{i}")
        except Refused as refused:
            problems.items += refused.problems
    if lots:
        keys = {(ref.sku.strip(), lot_key(ref.lot_number.strip())) for ref in lots}
        found = {
            (sku, key): lot_id
            for lot_id, sku, key in await session.execute(
                select(Lot.id, Product.sku, Lot.lot_key)
                .join(Product, Product.id == Lot.product_id)
                .where(
                    Product.sku.in_({sku for sku, _ in keys}),
                    Lot.lot_key.in_({key for _, key in keys}),
                )
            )
        }
        for i, ref in enumerate(lots):
            lot_id = found.get((ref.sku.strip(), lot_key(ref.lot_number.strip())))
            if lot_id is None:
                problems.add(
                    ErrorCode.NOT_FOUND, f"no lot {ref.lot_number!r} of {ref.sku!r}", f"lots.{i}"
                )
            else:
                named.ids.append(lot_id)
                named.paths.append(f"lots.{i}")
    return named


async def _change(
    ctx: Context,
    lot_gids: list[relay.GlobalID],
    lots: list[LotRefArgs],
    change: Callable[[AsyncSession, NamedLots], Awaitable[list[Lot]]],
) -> list[Lot] | Refusal:
    async def use_case(session: AsyncSession) -> list[Lot]:
        problems = Problems()
        named = await named_lots(session, lot_gids, lots, problems)
        if not named.ids:
            problems.raise_if_any()
        try:
            changed = await change(session, named)
        except Refused as refused:
            raise Refused(problems.items + refused.problems) from None
        # Lots that could not be named refuse the whole request: this rolls back.
        problems.raise_if_any()
        return changed

    return await attempt(ctx, use_case)


async def hold_lots(
    ctx: Context,
    *,
    lot_gids: list[relay.GlobalID],
    lots: list[LotRefArgs],
    reason: str,
    reference: str | None,
) -> list[Lot] | Refusal:
    async def change(session: AsyncSession, named: NamedLots) -> list[Lot]:
        return await recall.hold_lots(
            session, named.ids, reason, ctx.actor, reference=reference, fields=named.paths
        )

    return await _change(ctx, lot_gids, lots, change)


async def release_lots(
    ctx: Context,
    *,
    lot_gids: list[relay.GlobalID],
    lots: list[LotRefArgs],
    reference: str | None,
) -> list[Lot] | Refusal:
    async def change(session: AsyncSession, named: NamedLots) -> list[Lot]:
        return await recall.release_lots(
            session, named.ids, ctx.actor, reference=reference, fields=named.paths
        )

    return await _change(ctx, lot_gids, lots, change)


async def recall_report(
    ctx: Context, *, lot_gids: list[relay.GlobalID], lots: list[LotRefArgs]
) -> list[LotRecall]:
    """The recall of each lot named, in the order named (each once). A lot that does not
    exist is an error, not an empty answer: a recall must not silently miss a lot."""
    async with ctx.read() as session:
        problems = Problems()
        named = await named_lots(session, lot_gids, lots, problems)
        problems.raise_if_any()
        found = await recall.recall_report(session, named.ids)
    known = {r.lot_id for r in found}
    for lot_id, path in zip(named.ids, named.paths, strict=True):
        if lot_id not in known:
            problems.add(ErrorCode.NOT_FOUND, f"{path}: no such lot", path)
    problems.raise_if_any()
    return found
