"""`trackline audit verify`: the movements' hash chain checked from the command line."""

import asyncio

from rich.console import Console

from services.audit import ChainCheck, verify_chain
from trackline.db import create_engines


async def check(url: str) -> ChainCheck:
    engines = create_engines(url)
    try:
        async with engines.read_sessions()() as session:
            return await verify_chain(session)
    finally:
        await engines.dispose()


def verify(url: str, console: Console) -> bool:
    """Print what the chain check found; True when the chain is intact."""
    result = asyncio.run(check(url))
    if result.broken is None:
        console.print(f"{result.checked} movements, chain intact", soft_wrap=True)
        console.print(
            f"last movement {result.last_id}, chain hash {result.last_hash}", soft_wrap=True
        )
        return True
    broken = result.broken
    console.print(
        f"[red]Chain broken at movement {broken.movement_id}[/red]: {broken.reason}", soft_wrap=True
    )
    console.print(f"  expected {broken.expected}", soft_wrap=True)
    console.print(f"  found    {broken.found}", soft_wrap=True)
    console.print(f"{result.checked} movements before it are intact", soft_wrap=True)
    return False
