"""Who is calling and what their role lets them do.

Roles are ordered: each one may do everything the roles below it may. A viewer reads and
subscribes; an operator also works the floor (receive, put away, pick, ship, cancel,
return); an integrator also plans receipts and orders, imports files and places holds; an
admin also keeps the catalog and the API tokens.
"""

from dataclasses import dataclass
from datetime import datetime

from models.enums import Role


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: an API token, or the system itself (command line, tests)."""

    name: str
    role: Role
    token_id: int | None = None
    # A token's expiry; a token it creates may not outlive it.
    expires_at: datetime | None = None

    @property
    def scope(self) -> str:
        """What idempotency keys belong to: one token, or the system."""
        return f"token:{self.token_id}" if self.token_id is not None else f"system:{self.name}"


def system(name: str = "system") -> Principal:
    """The command line and in-process callers act with every right."""
    return Principal(name, Role.ADMIN)


__all__ = ["Principal", "Role", "system"]
