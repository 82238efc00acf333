"""What operators see: a JSON line per request, /metrics, X-Request-ID."""

import json
import logging

from registry.enums import Role


def access_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "pi_gateway.access"]


async def test_every_answer_carries_a_request_id_echoed_or_generated(api):
    echoed = await api.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await api.client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    forged = await api.client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert forged.headers["x-request-id"] != "bad id\twith spaces"


async def test_one_json_line_per_request_with_id_role_operation_duration_status_and_no_secrets(api, caplog):
    token = api.tokens[Role.PRIVACY_OFFICER]
    with caplog.at_level(logging.INFO, logger="pi_gateway.access"):
        response = await api.client.post(
            "/graphql", headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-1"},
            json={"query": 'query WhoHandles($ref: String!) { customerByRef(businessCode: "loveinn-japan", '
                           "externalRef: $ref) { email } }", "variables": {"ref": "LIJ-0001"}},
        )
    email = response.json()["data"]["customerByRef"]["email"]
    (line,) = access_lines(caplog)
    assert line["request_id"] == "req-1" and line["status"] == 200 and line["role"] == "PRIVACY_OFFICER"
    assert line["operation_name"] == "WhoHandles" and line["operation_type"] == "query"
    assert line["duration_ms"] >= 0
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert token not in logged and email not in logged and "LIJ-0001" not in logged


async def test_refused_requests_are_logged_too(api, caplog):
    with caplog.at_level(logging.INFO, logger="pi_gateway.access"):
        await api.client.post("/graphql", json={"query": "{ viewer { name } }"})
    (line,) = access_lines(caplog)
    assert line["status"] == 401 and line["role"] is None


async def test_metrics_count_requests_latency_and_errors_by_operation(api):
    await api.gql("query Viewer { viewer { name } }", role=Role.VIEWER)
    await api.gql("query Audit { auditEvents { totalCount } }", role=Role.VIEWER)
    response = await api.client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'pi_gateway_requests_total{path="/graphql",operation="Viewer",status="200"} 1' in text
    assert 'pi_gateway_graphql_errors_total{operation="Audit",code="FORBIDDEN"} 1' in text
    assert 'pi_gateway_request_duration_seconds_count{operation="Viewer"} 1' in text
    assert 'pi_gateway_request_duration_seconds_bucket{operation="Viewer",le="+Inf"} 1' in text


async def test_metrics_show_the_database_pool_where_it_has_one(api):
    text = (await api.client.get("/metrics")).text
    assert "# TYPE pi_gateway_db_pool_size gauge" in text
    if api.database.url.startswith("postgresql"):
        assert 'pi_gateway_db_pool_checked_out{engine="reader"}' in text


async def test_metrics_count_response_cache_hits_and_misses(api):
    query = "query Businesses { businesses { code } }"
    for _ in range(3):  # one miss, then two hits: nothing was written in between
        await api.data(query, role=Role.VIEWER)
    text = (await api.client.get("/metrics")).text
    assert 'pi_gateway_cache_misses_total{cache="response"} 1' in text
    assert 'pi_gateway_cache_hits_total{cache="response"} 2' in text
    assert 'pi_gateway_cache_entries{cache="response"} 1' in text
    assert f'pi_gateway_cache_max_bytes{{cache="response"}} {32 * 2**20}' in text


async def test_fast_path_steps_aside_are_counted_by_reason_and_logged_once_per_operation(tuned, caplog):
    async with tuned(response_cache_mb=0) as api:
        with caplog.at_level(logging.INFO, logger="pi_gateway.fast_path"):
            for _ in range(3):
                await api.gql("query Intro { __schema { queryType { name } } }", role=Role.VIEWER)
            await api.gql("query Audit { auditEvents { totalCount } }", role=Role.VIEWER)  # FORBIDDEN
        text = (await api.client.get("/metrics")).text
    assert 'pi_gateway_fast_path_fallbacks_total{reason="introspection"} 3' in text
    assert 'pi_gateway_fast_path_fallbacks_total{reason="errors"} 1' in text
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "pi_gateway.fast_path"]
    assert [(line["operation_name"], line["reason"]) for line in lines] == [("Intro", "introspection"),
                                                                            ("Audit", "errors")]
