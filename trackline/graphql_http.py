"""The GraphQL endpoint's HTTP rules: GraphQL over HTTP (graphql-http's audits), body size,
media types, and a coded JSON answer for every request refused before execution.

A client that accepts `application/graphql-response+json` gets the spec's status codes: 400
for a request that fails before execution (a parse or validation error, refused variables),
with no `data` entry. Others get `application/json` and 200 for those, as the spec asks of
the older media type. Requests refused before GraphQL is involved (body, media type, batch,
mutation over GET) get a 4xx either way. The limits and codes: docs/security.md.
"""

from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult

from resolvers.context import Context, request_id
from schema.limits import active_limits
from schema.masking import INTERNAL_SERVER_ERROR
from trackline.limits import HttpLimits

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
MULTIPART = "multipart/form-data"

REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
INVALID_JSON = "INVALID_JSON"
BATCH_NOT_SUPPORTED = "BATCH_NOT_SUPPORTED"
MUTATION_OVER_GET = "MUTATION_OVER_GET"
UNKNOWN_OPERATION = "UNKNOWN_OPERATION"
BAD_REQUEST = "BAD_REQUEST"
PREFLIGHT_REQUIRED = "PREFLIGHT_REQUIRED"


class Refusal(HTTPException):
    """A request refused before execution, answered as a GraphQL error with a code."""

    def __init__(
        self, status_code: int, code: str, reason: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code, reason)
        self.code = code
        self.headers = headers or {}


def response_media_type(accept: str) -> str:
    """graphql-response+json when the client lists it (with q > 0), else application/json."""
    for media_range in accept.split(","):
        media_type, params = parse_content_type(media_range.strip() or "*/*")
        if media_type == GRAPHQL_RESPONSE_JSON and params.get("q", "1").strip() not in (
            "0",
            "0.0",
            "0.00",
            "0.000",
        ):
            return GRAPHQL_RESPONSE_JSON
    return JSON


def failed_before_execution(result: ExecutionResult) -> bool:
    """Parse, validation and variable errors have no path; field errors always have one."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def _capped(receive: Receive, limit: int) -> Receive:
    """Counts the body as it arrives, so a body without a Content-Length is capped too."""
    received = 0

    async def receive_capped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(limit)
        return message

    return receive_capped


def _too_large(limit: int) -> Refusal:
    return Refusal(413, REQUEST_TOO_LARGE, f"the request body exceeds {limit} bytes")


class ConformingGraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with the HTTP rules above; `limits` apply to every request."""

    limits = HttpLimits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = active_limits.set(self.limits.document)
        try:
            if scope["type"] == "http":
                await self.serve_http(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)
        finally:
            active_limits.reset(token)

    async def serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        limit = self.body_limit(headers)
        request = Request(scope, receive=_capped(receive, limit))
        try:
            if int(headers.get("content-length") or 0) > limit:
                raise _too_large(limit)
            response = await self.run(request)
        except HTTPException as refused:
            response = self.refusal(request, refused)
        await response(scope, receive, send)

    def body_limit(self, headers: Headers) -> int:
        media_type, _ = parse_content_type(headers.get("content-type", ""))
        if media_type == MULTIPART:
            return self.limits.max_upload_bytes
        return self.limits.max_body_bytes

    def refusal(self, request: Request, refused: HTTPException) -> Response:
        code = refused.code if isinstance(refused, Refusal) else BAD_REQUEST
        error = {"message": refused.reason, "extensions": {"code": code}}
        media_type = response_media_type(request.headers.get("accept", ""))
        return Response(
            self.encode_json({"errors": [error]}),
            status_code=refused.status_code,
            media_type=f"{media_type}; charset=utf-8",
            headers=refused.headers if isinstance(refused, Refusal) else None,
        )

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            media_type, params = parse_content_type(request.content_type or "")
            if media_type == JSON:
                await self.check_json_body(request, params)
            elif media_type != MULTIPART:
                raise Refusal(
                    415,
                    UNSUPPORTED_MEDIA_TYPE,
                    "POST a JSON body as application/json (or an upload as multipart/form-data)",
                )
        return await super().parse_http_body(request)

    async def check_json_body(
        self, request: AsyncHTTPRequestAdapter, params: dict[str, str]
    ) -> None:
        if params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
            raise Refusal(415, UNSUPPORTED_MEDIA_TYPE, "a JSON body must be encoded in UTF-8")
        body = await request.get_body()
        if not body.strip():
            raise Refusal(400, BAD_REQUEST, "the request body is empty")
        # A JSON text that starts with a bracket is an array: several operations at once.
        start = body.lstrip()[:1]
        if start == b"[":
            raise Refusal(400, BATCH_NOT_SUPPORTED, "send one operation per request")
        if start != b"{":
            self.parse_json(body)  # refuses what is not JSON at all
            raise Refusal(400, BAD_REQUEST, "the body must be a JSON object")

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return super().parse_json(data)
        except HTTPException as error:
            raise Refusal(400, INVALID_JSON, error.reason) from error
        except UnicodeDecodeError as error:
            raise Refusal(400, INVALID_JSON, "the body is not UTF-8") from error

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        operations = await super().parse_multipart(request)
        if isinstance(operations, list):
            raise Refusal(400, BATCH_NOT_SUPPORTED, "send one operation per request")
        return operations

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as error:
            cause = error.__cause__
            if isinstance(cause, InvalidOperationTypeError):
                raise Refusal(
                    405, MUTATION_OVER_GET, "mutations are sent with POST", {"Allow": "POST"}
                ) from error
            if isinstance(cause, CannotGetOperationTypeError):
                raise Refusal(400, UNKNOWN_OPERATION, error.reason) from error
            if isinstance(cause, MissingQueryError):
                raise Refusal(400, BAD_REQUEST, error.reason) from error
            raise

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept", ""))
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        answer = await super().process_result(request, result)
        if failed_before_execution(result):
            # The spec's rule: no data entry when execution never began.
            answer.pop("data", None)
        for error in answer.get("errors") or ():
            extensions = error.get("extensions") if isinstance(error, dict) else None
            if extensions and extensions.get("code") == INTERNAL_SERVER_ERROR:
                extensions["requestId"] = request_id.get()
        return answer

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        media_type = sub_response.media_type or JSON
        response.headers["content-type"] = f"{media_type}; charset=utf-8"
        not_executed = isinstance(response_data, dict) and "data" not in response_data
        if media_type == GRAPHQL_RESPONSE_JSON and not_executed and not sub_response.status_code:
            response.status_code = refusal_status(response_data)
        return response


# Refusals by the permission rules are about who asks, not what: the HTTP codes say so.
ACCESS_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}


def refusal_status(answer: GraphQLHTTPResponse | list[GraphQLHTTPResponse]) -> int:
    """400 for a document refused before execution; 401 or 403 when every reason was the
    caller's access (403 if the caller was known but not allowed)."""
    errors = answer.get("errors") if isinstance(answer, dict) else None
    codes = {code_in(error) for error in errors or ()}
    if not codes or not codes <= ACCESS_CODES:
        return 400
    return 403 if "FORBIDDEN" in codes else 401


def code_in(error: object) -> object:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return extensions.get("code") if isinstance(extensions, dict) else None
