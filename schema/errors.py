"""User errors: why a mutation was refused, in a shape integrators can branch on."""

import strawberry

from resolvers.outcome import Refusal
from schema.enums import ErrorCode


@strawberry.type(description="One reason a mutation was refused. Nothing was changed.")
class UserError:
    code: ErrorCode
    message: str
    field: str | None = strawberry.field(
        description="Path of the input field at fault, e.g. `lines.0.lots.1.expiryDate`."
    )


def user_errors(refusal: Refusal) -> list[UserError]:
    return [UserError(code=p.code, message=p.message, field=p.field) for p in refusal.problems]
