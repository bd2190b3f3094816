"""UsersService: who used the API (`users.list`), from the calls the auth service noted
(`auth.seen`)."""

from __future__ import annotations

from auth.seen import SeenTokens
from parley.v1 import users_pb2, users_pb2_grpc
from runtime.server import Ctx
from store.client import pages


class UsersServicer(users_pb2_grpc.UsersServiceServicer):
    """users.list."""

    def __init__(self, seen: SeenTokens) -> None:
        self.seen = seen

    async def ListUsers(self, request: users_pb2.ListUsersRequest, context: Ctx) -> users_pb2.ListUsersResponse:
        users, page = await self.seen.page(request.cursor, request.page_size)
        return users_pb2.ListUsersResponse(data=users, pagination_data=pages.pagination(page))
