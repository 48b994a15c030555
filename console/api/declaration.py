"""One declaration per endpoint: its route, request model, answer models, error codes and security.

The decorator registers the route, validates the body before the view runs, and serialises what the view
returns through the declared answer models; console/api/openapi.py reads the same declaration back from
app.url_map to write the document. Nothing about an endpoint is said twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel, ValidationError

from console.edge import json_body
from console.errors import ERRORS
from console.services import login_events
from console.services.inputs import Input, validated

Security = Literal["none", "bearer", "bearer-or-ticket"]
Models = type[BaseModel] | tuple[type[BaseModel], ...]

# Refusals the declaration itself implies, so that no endpoint can forget to document them. Any request can
# be invalid_request: the edge (console/edge.py) refuses a NUL in any path or query string, whatever the body.
BEARER_ERRORS = ("unauthorized", "account_disabled")
TOO_LARGE = (413, "invalid_request", "The body is too large.")  # the sentence console/errors.py answers
INTERNAL_ERROR = (500, "internal_error", ERRORS["internal_error"][1])
# Any endpoint may meet a dependency outage (docs/dependencies.md): the database, or Redis where configured.
SERVICE_UNAVAILABLE = (503, "service_unavailable", ERRORS["service_unavailable"][1])


@dataclass(frozen=True)
class Declaration:
    """What one endpoint accepts and answers; the view function carries it as `.declaration`."""

    method: str
    rule: str
    summary: str
    body: type[Input] | None
    answers: Mapping[int, tuple[type[BaseModel], ...]]
    errors: tuple[str, ...]
    security: Security
    rate_limited: bool
    event: str | None = None  # the kind of login event each call leaves (console/services/login_events.py)

    @property
    def status(self) -> int:
        """The status of a successful answer (one per endpoint)."""
        return next(iter(self.answers))

    def refusals(self) -> list[tuple[int, str, str]]:
        """(status, code, sentence) of every error this endpoint can answer, the implied ones included."""
        codes = ["invalid_request"]
        codes += [code for code in self.errors if code not in codes]
        if self.security != "none":
            codes += [code for code in BEARER_ERRORS if code not in codes]
        if self.rate_limited:
            codes.append("rate_limited")
        refusals = [(ERRORS[code][0], code, ERRORS[code][1]) for code in codes]
        if self.body is not None:
            refusals.append(TOO_LARGE)
        return [*refusals, INTERNAL_ERROR, SERVICE_UNAVAILABLE]

    def answer(self, result: BaseModel | Mapping[str, Any]) -> tuple[Response, int]:
        """The JSON answer of a view's result: an answer model, or the dict of one (the seed's facade)."""
        models = self.answers[self.status]
        if isinstance(result, BaseModel):
            if not isinstance(result, models):
                raise TypeError(f"{self.rule} answered a {type(result).__name__}, not one of its declared models")
            model = result
        else:
            model = _parse(models, result)
        return jsonify(model.model_dump(mode="json")), self.status


def _parse(models: tuple[type[BaseModel], ...], data: Mapping[str, Any]) -> BaseModel:
    # A project's own Type answers dicts too: what it serves must still be what the document says.
    failures: list[ValidationError] = []
    for model in models:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            failures.append(exc)
    raise failures[0]


def endpoint(
    bp: Blueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    answers: Mapping[int, Models],
    body: type[Input] | None = None,
    errors: Sequence[str] = (),
    security: Security = "none",
    limits: Sequence[Callable] = (),
    event: str | None = None,
) -> Callable[[Callable], Callable]:
    """Declare and register an endpoint; the view gets the validated body as `body` and returns its answer.

    `errors` are the codes specific to the endpoint: invalid_request (a body), unauthorized and
    account_disabled (a bearer), rate_limited (`limits`), internal_error and service_unavailable are implied.
    `event` names the login event every call leaves, whatever its outcome.
    """
    if len(answers) != 1 or not 200 <= next(iter(answers)) < 300:
        raise ValueError(f"{rule}: declare exactly one successful status")
    unknown = set(errors) - set(ERRORS)
    if unknown:
        raise ValueError(f"{rule}: unknown error codes {sorted(unknown)}")
    declaration = Declaration(
        method=method.upper(),
        rule=rule,
        summary=summary,
        body=body,
        answers={status: models if isinstance(models, tuple) else (models,) for status, models in answers.items()},
        errors=tuple(errors),
        security=security,
        rate_limited=bool(limits),
        event=event,
    )

    def decorate(view: Callable) -> Callable:
        def run(path_args: dict):
            # The body is validated before the view looks the login method up or checks the bearer token; it is
            # read through the edge, which measures its depth before parsing it and refuses NUL in its strings.
            if body is not None:
                path_args["body"] = validated(body, json_body())
            return declaration.answer(view(**path_args))

        @wraps(view)
        def serve(**path_args):
            if event is None:
                return run(path_args)
            # The one place that sees every call's outcome: the services write a success's event in their own
            # transaction; a refusal's is written here, whoever raised it (login_events explains the design).
            login_events.begin(
                event, login_method=path_args.get("name"), address=request.remote_addr, request_id=g.get("request_id")
            )
            try:
                answer = run(path_args)
            except BaseException as error:
                login_events.finish(error)
                raise
            login_events.finish()
            return answer

        guarded = serve
        for limit in reversed(limits):  # limits=(a, b) stacks as @a @b would: both run before the body is read
            guarded = limit(guarded)
        guarded.declaration = declaration  # type: ignore[attr-defined]
        bp.add_url_rule(rule, view_func=guarded, methods=[declaration.method])
        return guarded

    return decorate
