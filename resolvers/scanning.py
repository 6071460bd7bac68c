"""Scan look-up: whatever a scanner sent, what it is and what it matches."""

from resolvers.context import Context
from services.scanning import ScanMatch, match_scan, parse_scan


async def scan(ctx: Context, code: str) -> ScanMatch:
    parsed = parse_scan(code)
    async with ctx.read() as session:
        return await match_scan(session, parsed)
