"""Typed routes for the services an app provides on the exchange.

An app declares each service it provides as a :class:`ServiceRouter` and its operations as routes::

    persons = ServiceRouter("registry.persons", title="Civil registry: persons")
    persons.publish("CRO/civil-registry/persons", title="Persons in the civil registry")

    @persons.get(
        "/{uin}",
        response=PersonRecord,
        query=AsOf,
        summary="A person's current record",
        seen_as=gettext_lazy("Your record: name, date of birth, address and family status"),
    )
    def person_get(call: Call, uin: str, query: AsOf) -> PersonRecord: ...

The gateway hands a request for ``local:registry.persons`` to the router, which matches the path
against each route's template (``{name}`` is one segment, ``{name:path}`` the rest of the path),
parses the query and the body with pydantic, calls the handler, and serialises what it returns
through the declared response type, so an answer cannot carry a field its document does not
describe. Bad input becomes a problem response naming the offending field. The service's OpenAPI
document (what ``getOpenAPI`` returns and ``listMethods`` lists) is generated from the same routes.

``summary`` speaks to the developer of an agency's system; ``seen_as`` speaks to the person whose
data the route returns: what of theirs was read, in words they understand, marked for translation
(``gettext_lazy``) where the route is declared. "Who used my data" shows it (:func:`route_seen_as`).

The wire format is the one the services had before they were routes: JSON written by orjson
(``+00:00`` for UTC, where pydantic's own JSON writes ``Z``), problem details for every refusal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final, NotRequired, TypedDict, TypeVar, Unpack

import orjson
from django.utils.functional import Promise
from pydantic import BaseModel, ConfigDict, JsonValue, TypeAdapter, ValidationError
from pydantic.json_schema import JsonSchemaMode

from gov21.core.errors import DomainError

JSON: Final = "application/json"
PROBLEM: Final = "application/problem+json"
OPENAPI_VERSION: Final = "3.1.0"
REF_TEMPLATE: Final = "#/components/schemas/{model}"
# ``{name}`` matches one path segment; ``{name:path}`` the rest of the path, slashes included.
_PARAM = re.compile(r"\{(\w+)(:path)?\}")


@dataclass(frozen=True)
class ServiceRequest:
    """What a provider service sees of a request that came through the exchange."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client: str
    service: str
    message_id: str
    user_id: str
    issue: str


@dataclass
class ServiceResponse:
    status: int
    body: bytes
    content_type: str = JSON
    subjects: list[str] = field(default_factory=list)  # UINs of the persons whose data is returned


# Handlers of services that live in this process (``local:<name>``), registered by the apps that own them.
LocalHandler = Callable[[ServiceRequest], ServiceResponse]
LOCAL_HANDLERS: dict[str, LocalHandler] = {}


class Problem(BaseModel):
    """A refusal as RFC 9457 problem details, the platform's error shape."""

    model_config = ConfigDict(extra="forbid")

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None


def problem_response(error: DomainError) -> ServiceResponse:
    """A provider service's refusal as RFC 9457 problem details."""
    body: dict[str, str | int] = {
        "type": error.code,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
    }
    if error.field:
        body["field"] = error.field
    return ServiceResponse(status=error.status, body=orjson.dumps(body), content_type=PROBLEM)


class Call:
    """One request as a route's handler sees it; the handler names in :meth:`concerns` the persons
    whose data it returns, so the exchange records the use for each of them."""

    __slots__ = ("request", "subjects")

    def __init__(self, request: ServiceRequest) -> None:
        self.request = request
        self.subjects: list[str] = []

    @property
    def client(self) -> str:
        return self.request.client

    @property
    def service(self) -> str:
        return self.request.service

    def header(self, name: str) -> str:
        return self.request.headers.get(name.lower(), "")

    def concerns(self, *uins: str | None) -> None:
        self.subjects.extend(uin for uin in uins if uin)


Handler = Callable[..., object]
H = TypeVar("H", bound=Handler)
T = TypeVar("T")
# What a route's body is when it is the bytes themselves (a stored object), not JSON.
RAW: Final = bytes


class RouteOptions(TypedDict):
    """What :meth:`ServiceRouter.route` takes besides the method and the path template."""

    response: Any
    summary: str
    seen_as: NotRequired[str | Promise]
    status: NotRequired[int]
    media_type: NotRequired[str]
    query: NotRequired[type[BaseModel] | None]
    body: NotRequired[Any]
    path: NotRequired[type[BaseModel] | None]


@dataclass(frozen=True)
class Route:
    """One operation of a service: its method and path template, the types of its input and
    output, and the handler that answers it."""

    method: str
    template: str
    summary: str
    handler: Handler
    status: int
    response: Any  # a type pydantic understands, RAW for bytes, or None for no body
    media_type: str
    query: type[BaseModel] | None
    body: Any  # a type pydantic understands, RAW for bytes, or None
    path: type[BaseModel] | None
    seen_as: str | Promise = ""
    pattern: re.Pattern[str] = field(init=False)
    response_adapter: TypeAdapter[Any] | None = field(init=False)
    body_adapter: TypeAdapter[Any] | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", _compile(self.template))
        typed = self.response is not None and self.response is not RAW
        object.__setattr__(self, "response_adapter", TypeAdapter(self.response) if typed else None)
        parsed = self.body is not None and self.body is not RAW
        object.__setattr__(self, "body_adapter", TypeAdapter(self.body) if parsed else None)

    @property
    def openapi_path(self) -> str:
        return _PARAM.sub(r"{\1}", self.template)

    def path_params(self, path: str) -> dict[str, object] | None:
        """The path's parameters if it is this route's path (typed by ``path``), else None."""
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        params = found.groupdict()
        if self.path is None:
            return params
        try:
            return dict(self.path.model_validate(params))
        except ValidationError:
            return None  # a path whose parameters do not fit names no endpoint

    def arguments(self, request: ServiceRequest, params: dict[str, object]) -> dict[str, object]:
        """The handler's keyword arguments: the path's parameters, ``query`` and ``body``."""
        arguments = dict(params)
        query = self.query
        if query is not None:
            # An empty value is no value (``?as_of=`` asks for today's record).
            first = {name: values[0] for name, values in request.query.items() if values and values[0]}
            arguments["query"] = _parsed(lambda: query.model_validate(first))
        if self.body is RAW:
            arguments["body"] = request.body
        elif self.body_adapter is not None:
            adapter = self.body_adapter
            arguments["body"] = _parsed(lambda: adapter.validate_json(request.body or b"{}"))
        return arguments

    def reply(self, result: object, subjects: list[str]) -> ServiceResponse:
        """The handler's result as the response on the wire, checked against the declared type."""
        if self.response is None:
            body = b""
        elif self.response_adapter is None:
            if not isinstance(result, bytes):
                raise TypeError(f"{self.method} {self.template} must answer bytes, not {type(result).__name__}")
            body = result
        else:
            value = self.response_adapter.validate_python(result)
            body = orjson.dumps(self.response_adapter.dump_python(value), default=str)
        return ServiceResponse(status=self.status, body=body, content_type=self.media_type, subjects=subjects)


def _compile(template: str) -> re.Pattern[str]:
    parts, position = [], 0
    for param in _PARAM.finditer(template):
        parts.append(re.escape(template[position : param.start()]))
        parts.append(f"(?P<{param[1]}>{'.+' if param[2] else '[^/]+'})")
        position = param.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts))


def _parsed(parse: Callable[[], T]) -> T:
    """The input ``parse`` makes of the request, or bad input naming the offending field."""
    try:
        return parse()
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        detail = f"{where}: {error['msg']}" if where else str(error["msg"])
        raise DomainError("invalid_input", detail, field=where or None) from exc


def _listed(routes: list[Route]) -> str:
    """The endpoints as a person reads them: "GET /a, GET /b or POST /c"."""
    names = [f"{route.method} {route.openapi_path}" for route in routes]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


class ServiceRouter:
    """The routes of one service an app provides, callable as the gateway's local handler
    ``local:<name>``; created once, at import, which registers it."""

    def __init__(self, name: str, *, title: str) -> None:
        if name in LOCAL_HANDLERS:
            raise ValueError(f"A service handler named {name} is already registered")
        self.name = name
        self.title = title
        self.routes: list[Route] = []
        # (service identifier after the instance, the directory's title, the document's title)
        self.publications: list[tuple[str, str, str]] = []
        LOCAL_HANDLERS[name] = self
        ROUTERS[name] = self

    @property
    def url(self) -> str:
        return f"local:{self.name}"

    def publish(self, tail: str, *, title: str, api_title: str = "") -> None:
        """Publish the service in the directory as ``<instance>/GOV/<tail>`` with ``title``; its
        OpenAPI document is titled ``api_title`` (the router's title when empty)."""
        self.publications.append((tail, title, api_title or self.title))

    def route(
        self,
        method: str,
        template: str,
        *,
        response: Any,
        summary: str,
        seen_as: str | Promise = "",
        status: int = 200,
        media_type: str = JSON,
        query: type[BaseModel] | None = None,
        body: Any = None,
        path: type[BaseModel] | None = None,
    ) -> Callable[[H], H]:
        """Declare the decorated function as the handler of ``method template``. It is called
        with the :class:`Call`, the path's parameters by name (typed by ``path`` when given),
        ``query`` when declared and ``body`` when declared, and returns the ``response``."""

        def register(handler: H) -> H:
            self.routes.append(
                Route(method, template, summary, handler, status, response, media_type, query, body, path, seen_as)
            )
            return handler

        return register

    def get(self, template: str, **options: Unpack[RouteOptions]) -> Callable[[H], H]:
        return self.route("GET", template, **options)

    def post(self, template: str, **options: Unpack[RouteOptions]) -> Callable[[H], H]:
        return self.route("POST", template, **options)

    def put(self, template: str, **options: Unpack[RouteOptions]) -> Callable[[H], H]:
        return self.route("PUT", template, **options)

    def delete(self, template: str, **options: Unpack[RouteOptions]) -> Callable[[H], H]:
        return self.route("DELETE", template, **options)

    def __call__(self, request: ServiceRequest) -> ServiceResponse:
        call = Call(request)
        try:
            route, params = self._match(request.method, _normal(request.path))
            result = route.handler(call, **route.arguments(request, params))
        except DomainError as error:
            return problem_response(error)
        return route.reply(result, call.subjects)

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, object]]:
        allowed = []
        for route in self.routes:
            params = route.path_params(path)
            if params is None:
                continue
            if route.method == method:
                return route, params
            allowed.append(route.method)
        if allowed:
            raise DomainError("method_not_allowed", f"{path} answers {', '.join(allowed)}, not {method}.", status=405)
        raise DomainError("not_found", f"No such endpoint: {_listed(self.routes)}", status=404)

    def openapi(self, *, title: str = "") -> dict[str, JsonValue]:
        """The service's OpenAPI document, generated from its routes."""
        schemas = _Schemas()
        paths: dict[str, dict[str, JsonValue]] = {}
        for route in self.routes:
            paths.setdefault(route.openapi_path, {})[route.method.lower()] = _operation(route, schemas)
        return {
            "openapi": OPENAPI_VERSION,
            "info": {"title": title or self.title, "version": "1.0.0"},
            "paths": dict[str, JsonValue](paths),
            "components": {"schemas": schemas.named},
        }


ROUTERS: dict[str, ServiceRouter] = {}


def route_seen_as(*, handler_url: str, method: str, path: str) -> str:
    """What a person reads of one operation of a service this process answers (``handler_url`` is
    the directory's address of the service, ``local:<router>``): the route's ``seen_as`` in the
    active language; empty when no route of this process answers it or the route declares none."""
    router = ROUTERS.get(handler_url.removeprefix("local:")) if handler_url.startswith("local:") else None
    if router is None:
        return ""
    try:
        route, _params = router._match(method, _normal(path))
    except DomainError:
        return ""
    return str(route.seen_as) if route.seen_as else ""


def routers() -> Iterator[ServiceRouter]:
    """Every service router the apps declared, in the order they were declared."""
    return iter(ROUTERS.values())


def _normal(path: str) -> str:
    """The path as routes match it: "/" for the service's root, no trailing slash otherwise."""
    return path.rstrip("/") or "/"


class _Schemas:
    """The JSON schemas of one document: the named ones, referred to from the operations."""

    def __init__(self) -> None:
        self.named: dict[str, JsonValue] = {}

    def of(self, shape: Any, *, mode: JsonSchemaMode) -> dict[str, JsonValue]:
        schema = TypeAdapter(shape).json_schema(ref_template=REF_TEMPLATE, mode=mode)
        for name, named in schema.pop("$defs", {}).items():
            self._add(name, named)
        if isinstance(shape, type) and issubclass(shape, BaseModel):
            self._add(shape.__name__, schema)
            return {"$ref": REF_TEMPLATE.format(model=shape.__name__)}
        return schema

    def _add(self, name: str, schema: dict[str, JsonValue]) -> None:
        if self.named.setdefault(name, schema) != schema:
            raise ValueError(f"Two different schemas are named {name}")


def _operation(route: Route, schemas: _Schemas) -> dict[str, JsonValue]:
    operation: dict[str, JsonValue] = {"summary": route.summary}
    parameters = _parameters(route)
    if parameters:
        operation["parameters"] = parameters
    if route.body is RAW:
        binary: JsonValue = {"schema": {"type": "string", "format": "binary"}}
        operation["requestBody"] = {"required": True, "content": {"application/octet-stream": binary}}
    elif route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": schemas.of(route.body, mode="validation")}},
        }
    answer: dict[str, JsonValue] = {"description": HTTPStatus(route.status).phrase}
    if route.response is RAW:
        answer["content"] = {route.media_type: {"schema": {"type": "string", "format": "binary"}}}
    elif route.response is not None:
        answer["content"] = {route.media_type: {"schema": schemas.of(route.response, mode="serialization")}}
    refusal: JsonValue = {
        "description": "A refusal as problem details",
        "content": {PROBLEM: {"schema": schemas.of(Problem, mode="serialization")}},
    }
    operation["responses"] = {str(route.status): answer, "default": refusal}
    return operation


def _parameters(route: Route) -> list[JsonValue]:
    parameters: list[JsonValue] = []
    path_schema = TypeAdapter(route.path).json_schema() if route.path is not None else {}
    for name in route.pattern.groupindex:
        schema = path_schema.get("properties", {}).get(name, {"type": "string"})
        parameters.append({"name": name, "in": "path", "required": True, "schema": _untitled(schema)})
    if route.query is not None:
        query_schema = route.query.model_json_schema(ref_template=REF_TEMPLATE)
        for name, schema in query_schema.get("properties", {}).items():
            required = name in query_schema.get("required", [])
            parameters.append({"name": name, "in": "query", "required": required, "schema": _untitled(schema)})
    return parameters


def _untitled(schema: dict[str, JsonValue]) -> dict[str, JsonValue]:
    return {key: value for key, value in schema.items() if key != "title"}
