"""The OpenAPI document is valid, and schemathesis finds no 5xx and no answer that breaks it."""

from __future__ import annotations

import pytest
import schemathesis
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from console import create_app
from console.api.openapi import openapi_document
from tests.helpers import FUZZ_CASES_RUN

FUZZ_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# The document is generated from an app's url_map; schemathesis needs it while collecting, before any fixture.
DOCUMENT = openapi_document(
    create_app(
        {"TESTING": True},
        environ={"SECRET_KEY": "fuzz", "ENCRYPTION_KEYS": Fernet.generate_key().decode(), "DATABASE_URL": "sqlite://"},
    )
)


def test_the_document_is_valid_openapi():
    validate(DOCUMENT)


def test_the_fuzzed_document_is_the_served_one(client):
    assert client.get("/api/v1/openapi.json").json == DOCUMENT


@pytest.fixture
def served(harness, app):
    """An app serving the seed's instance myWeChatMiniLogin, and a live token of one of its users."""
    method = harness.add_method(name="myWeChatMiniLogin")
    return app, harness.token(method, "alice")


schema = schemathesis.openapi.from_dict(DOCUMENT)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_answer_breaks_the_contract(case, served, request):
    request.config.stash[FUZZ_CASES_RUN] = request.config.stash.get(FUZZ_CASES_RUN, 0) + 1
    app, token = served
    if "Authorization" not in (case.headers or {}):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    case.call_and_validate(app=app, checks=FUZZ_CHECKS)
