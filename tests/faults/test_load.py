"""The load helper's checks: what counts as a well-formed GraphQL response."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.faults.load import LoadResult, malformed

OK_ERROR = {"message": "down", "extensions": {"code": "UPSTREAM_UNAVAILABLE"}}


def _response(status: int, content: bytes) -> httpx.Response:
    return httpx.Response(status, content=content, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": {"jobs": []}}',
        b'{"data": null, "errors": [{"message": "down", "extensions": {"code": "X"}}]}',
        b'{"data": {"a": 1, "b": null}, "errors": [{"message": "m", "extensions": {"code": "Y"}}]}',
    ],
)
def test_well_formed_responses(body: bytes) -> None:
    assert malformed(_response(200, body)) is None


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (502, b'{"data": null}', "status 502"),
        (200, b"<html>Internal Server Error</html>", "not JSON"),
        (200, b"[1, 2]", "neither data nor errors"),
        (200, b'{"result": 1}', "neither data nor errors"),
        (200, b'{"data": null, "errors": []}', "non-empty list"),
        (200, b'{"errors": [{"message": "no code"}]}', "extensions.code"),
        (200, b'{"errors": ["text"]}', "extensions.code"),
    ],
)
def test_malformed_responses(status: int, body: bytes, reason: str) -> None:
    found = malformed(_response(status, body))
    assert found is not None
    assert reason in found


def test_load_result_counts_and_percentiles() -> None:
    result = LoadResult()
    for i in range(1, 101):
        result.record(i / 1000, _response(200, b'{"data": {"x": 1}}'), "", expected={"x": 1})
    result.record(0.5, _response(200, b'{"data": {"x": 2}}'), "", expected={"x": 1})
    result.record(0.5, None, "transport: ReadError")
    result.record(0.5, _response(503, b"busy"), "")
    partial = orjson.dumps({"data": None, "errors": [OK_ERROR]})
    result.record(0.5, _response(200, partial), "")
    assert result.count == 104
    assert result.percentile(50) == pytest.approx(52)
    assert result.server_errors == 1
    assert result.with_errors == 1
    assert result.error_codes == {"UPSTREAM_UNAVAILABLE": 1}
    assert len(result.malformed) == 3
    assert result.malformed[0].startswith("wrong data")
    assert "p50=" in result.summary("x")
