"""GET /openapi.json: an OpenAPI 3 document generated from the very schemas
that validate requests and shape responses."""
from __future__ import annotations

import pytest
import schemathesis

from tariff.api.schemas.decisions import BatchResponseSchema, DecisionSchema
from tariff.api.schemas.policies import ReloadSchema, ValidateRequestSchema
from tariff.engine import RequestSchema

OPERATIONS = {
    ("/v1/decisions", "post"): ("DecisionRequest", "Decision"),
    ("/v1/decisions/batch", "post"): ("BatchRequest", "BatchResponse"),
    ("/v1/policies", "get"): (None, "Policies"),
    ("/v1/policies/validate", "post"): ("ValidateRequest", "ValidateResponse"),
    ("/v1/policies/reload", "post"): (None, "Reload"),
    ("/healthz", "get"): (None, "Health"),
    ("/readyz", "get"): (None, "Ready"),
    ("/metrics", "get"): (None, None),
}


@pytest.fixture
def spec(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.content_type == "application/json"
    return response.get_json()


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def test_the_document_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "tariff"
    schemathesis.openapi.from_dict(spec).validate()


@pytest.mark.parametrize("path, method", sorted(OPERATIONS))
def test_every_endpoint_is_documented_with_its_schemas(spec, path, method):
    operation = spec["paths"][path][method]
    body, answer = OPERATIONS[(path, method)]
    if body:
        assert operation["requestBody"]["content"]["application/json"]["schema"] == ref(body)
    else:
        assert "requestBody" not in operation
    if answer:
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == ref(answer)
    assert operation["summary"]


def test_errors_are_documented_as_problem_json(spec):
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"code", "status", "title", "message"}
    decide = spec["paths"]["/v1/decisions"]["post"]["responses"]
    assert {"400", "401", "413", "415", "422"} <= set(decide)
    response = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]
    assert response["content"]["application/problem+json"]["schema"] == ref("Problem")
    reload_409 = spec["paths"]["/v1/policies/reload"]["post"]["responses"]["409"]
    assert reload_409["content"]["application/problem+json"]["schema"] == ref("ReloadRefused")


def test_every_operation_with_url_parameters_documents_their_refusals(spec):
    """The edge refuses a path or query value that is not text (400) or an integer out of
    range (422) on every such operation (app._check_url): the document says so."""
    missing = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
            if any(p.get("in") in ("path", "query") for p in parameters):
                missing += [f"{method.upper()} {path} {status}" for status in ("400", "422")
                            if status not in operation["responses"]]
    assert missing == []


@pytest.mark.parametrize("name", ["DecisionRequest", "RequestOrganization", "RequestMember", "RequestEvent",
                                  "RequestTokens", "BatchRequest", "ValidateRequest", "Decision", "Problem"])
def test_unknown_fields_are_rejected_by_the_schemas(spec, name):
    assert spec["components"]["schemas"][name]["additionalProperties"] is False


def test_the_request_document_is_the_engines_schema(spec):
    documented = spec["components"]["schemas"]["DecisionRequest"]
    fields = {f.data_key or name for name, f in RequestSchema().fields.items()}
    assert set(documented["properties"]) == fields
    assert set(documented["required"]) == {n for n, f in RequestSchema().fields.items() if f.required}
    event = spec["components"]["schemas"]["RequestEvent"]
    assert "from" in event["properties"]
    assert event["properties"]["type"]["enum"]


def test_amounts_are_documented_as_decimal_strings(spec):
    org = spec["components"]["schemas"]["RequestOrganization"]["properties"]
    assert org["spend"]["type"] == "string" and "pattern" in org["spend"]
    assert "minimum" not in org["spend"]
    assert "unlimited" in org["limit"]["pattern"]
    decision = spec["components"]["schemas"]["Charges"]["properties"]
    assert decision["total"]["type"] == "string"


@pytest.mark.parametrize("schema, name", [(DecisionSchema, "Decision"), (BatchResponseSchema, "BatchResponse"),
                                          (ReloadSchema, "Reload"), (ValidateRequestSchema, "ValidateRequest")])
def test_responses_are_documented_from_the_same_schemas(spec, schema, name):
    assert set(spec["components"]["schemas"][name]["properties"]) == set(schema().fields)


def test_the_explain_parameter(spec):
    [param] = spec["paths"]["/v1/decisions"]["post"]["parameters"]
    assert param["name"] == "explain" and param["in"] == "query" and param["schema"]["type"] == "boolean"
