"""Running a write use case and turning its refusal into data the schema can return."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.context import Context
from services.errors import ErrorCode, Problem, Refused

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    problems: list[Problem]


async def attempt(ctx: Context, use_case: Callable[[AsyncSession], Awaitable[T]]) -> T | Refusal:
    """Run `use_case` in one write transaction. A refusal rolls everything back.

    A constraint violation here means another request won a race the checks could not see
    (two creates of one SKU at once): the database kept the data right, and the caller is
    told to retry rather than shown a server error.
    """
    try:
        async with ctx.write() as session:
            return await use_case(session)
    except Refused as refused:
        return Refusal(refused.problems)
    except IntegrityError as exc:
        log.info("write refused by a database constraint: %s", exc.orig)
        return Refusal(
            [Problem(ErrorCode.CONFLICT, "another request changed the same data first; retry")]
        )
