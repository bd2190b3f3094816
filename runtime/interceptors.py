"""What the services' server interceptors share: a method's handler with its behaviour wrapped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

#: A wrapper of a method's behaviour (unary: a coroutine function; unary-stream: an async
#: generator function) that keeps its signature.
Wrap = Callable[[Callable[..., Any]], Callable[..., Any]]


def rewrapped(handler: grpc.RpcMethodHandler, unary: Wrap, stream: Wrap) -> grpc.RpcMethodHandler:
    """`handler` with its unary behaviour wrapped by `unary`, its server-streaming one by
    `stream`; a handler of another kind as it is (Parley's contracts have none)."""
    kwargs = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(unary(handler.unary_unary), **kwargs)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(stream(handler.unary_stream), **kwargs)
    return handler


class WrappingInterceptor(grpc.aio.ServerInterceptor):
    """A server interceptor that wraps the behaviour of every method (`wrappers`)."""

    def wrappers(self, method: str) -> tuple[Wrap, Wrap]:
        """The wrappers of method `method`'s (`/package.Service/Method`) unary and
        server-streaming behaviour."""
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        return rewrapped(handler, *self.wrappers(handler_call_details.method))
