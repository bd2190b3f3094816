"""TokensService: API tokens made, listed and revoked through the API (the Control Center), as
`parley token` does (`auth.manage.Tokens`)."""

from __future__ import annotations

from auth.manage import Tokens
from parley.v1 import records_pb2, tokens_pb2, tokens_pb2_grpc
from runtime import timestamps
from runtime.errors import InvalidArgument
from runtime.server import Ctx


def served(record: records_pb2.TokenRecord) -> tokens_pb2.ApiToken:
    """A token's record as served: never its hash."""
    return tokens_pb2.ApiToken(
        name=record.name, scopes=record.scopes, created_at=timestamps.format_ms(record.created_at_ms),
        expires_at=timestamps.format_ms(record.expires_at_ms) if record.expires_at_ms else "",
        revoked=record.revoked)


class TokensServicer(tokens_pb2_grpc.TokensServiceServicer):
    """tokens.create, .list and .revoke."""

    def __init__(self, tokens: Tokens) -> None:
        self.tokens = tokens

    async def CreateToken(self, request: tokens_pb2.CreateTokenRequest, context: Ctx) -> tokens_pb2.CreateTokenResponse:
        token, record = await self.tokens.create(request.name, list(request.scopes), request.expires)
        return tokens_pb2.CreateTokenResponse(token=token, api_token=served(record))

    async def ListTokens(self, request: tokens_pb2.ListTokensRequest, context: Ctx) -> tokens_pb2.ListTokensResponse:
        return tokens_pb2.ListTokensResponse(data=[served(r) for r in await self.tokens.reads.tokens()])

    async def RevokeToken(self, request: tokens_pb2.RevokeTokenRequest, context: Ctx) -> tokens_pb2.RevokeTokenResponse:
        if not request.name:
            raise InvalidArgument("name is required")
        await self.tokens.revoke(request.name)
        return tokens_pb2.RevokeTokenResponse()
