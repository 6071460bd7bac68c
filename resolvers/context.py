"""What every resolver gets: database access, loaders and who is acting."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from resolvers.loaders import Loaders

DEFAULT_ACTOR = "api"


@dataclass
class Context:
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    actor: str = DEFAULT_ACTOR
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders.create(self.read_sessions)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction for one use case: committed on success, rolled back on a refusal
        or any error, so nothing partial is ever committed."""
        async with self.sessions.begin() as session:
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.read_sessions() as session:
            yield session
