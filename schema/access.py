"""API tokens and the caller: `me` for anyone, token administration for admins."""

from datetime import datetime

import strawberry

from models.access import ApiToken as TokenRow
from models.enums import Role
from resolvers import access
from resolvers.outcome import Refusal
from schema.errors import UserError, user_errors
from schema.nodes import Info

strawberry.enum(
    Role,
    description="What a token may do. VIEWER reads and subscribes; OPERATOR also works the "
    "floor; INTEGRATOR also plans, orders, imports and holds; ADMIN also keeps the catalog "
    "and the tokens.",
)


@strawberry.type(description="The caller of this request.")
class Me:
    name: str
    role: Role
    expires_at: datetime | None


@strawberry.type(description="An API token. Its secret is shown once, when it is created.")
class ApiToken:
    id: strawberry.ID
    name: str
    role: Role
    prefix: str = strawberry.field(description="The token's public start: tl_<prefix>_….")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    created_by_id: strawberry.ID | None = strawberry.field(
        description="The token that created this one; none when made on the command line."
    )

    @classmethod
    def of(cls, row: TokenRow) -> "ApiToken":
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            role=row.role,
            prefix=row.prefix,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            created_by_id=strawberry.ID(str(row.created_by_id)) if row.created_by_id else None,
        )


@strawberry.input
class CreateApiTokenInput:
    name: str
    role: Role
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When it stops working; required when the caller's own token expires, "
        "and no later than it.",
    )


@strawberry.input
class RevokeApiTokenInput:
    id: strawberry.ID


@strawberry.type
class CreateApiTokenPayload:
    token: ApiToken | None = None
    secret: str | None = strawberry.field(
        default=None, description="The bearer token. Shown this once; keep it safe."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApiTokenPayload:
    token: ApiToken | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AccessQuery:
    @strawberry.field(description="Who this request is from; null without a token.")
    def me(self, info: Info) -> Me | None:
        principal = info.context.principal
        if principal is None:
            return None
        return Me(name=principal.name, role=principal.role, expires_at=principal.expires_at)

    @strawberry.field(description="Every API token, revoked and expired ones included.")
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        return [ApiToken.of(row) for row in await access.list_tokens(info.context)]


@strawberry.type
class AccessMutation:
    @strawberry.mutation(description="Issue a token; it never grants more than the caller's.")
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenPayload:
        outcome = await access.create_token(
            info.context, name=input.name, role=input.role, expires_at=input.expires_at
        )
        if isinstance(outcome, Refusal):
            return CreateApiTokenPayload(user_errors=user_errors(outcome))
        return CreateApiTokenPayload(token=ApiToken.of(outcome.token), secret=outcome.secret)

    @strawberry.mutation(description="Revoke a token and every token it created.")
    async def revoke_api_token(self, info: Info, input: RevokeApiTokenInput) -> ApiTokenPayload:
        outcome = await access.revoke_token(info.context, str(input.id))
        if isinstance(outcome, Refusal):
            return ApiTokenPayload(user_errors=user_errors(outcome))
        return ApiTokenPayload(token=ApiToken.of(outcome))
