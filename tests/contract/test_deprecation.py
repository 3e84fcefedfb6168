"""The deprecation policy's mechanism (docs/contracts.md): a retired operation answers with
Deprecation, Sunset and a Link to its successor, and is flagged ``deprecated`` in the document."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from gateway.api.openapi import build_openapi, deprecated, install_openapi, operation_id

SUNSET = "Sat, 01 May 2027 00:00:00 GMT"


def test_a_deprecated_operation_says_so_in_headers_and_document() -> None:
    app = FastAPI(generate_unique_id_function=operation_id)
    router = APIRouter(prefix="/v1")

    @router.get("/old-things", deprecated=True,
                dependencies=[Depends(deprecated(SUNSET, "/v1/things"))])
    def list_old_things() -> dict[str, str]:
        """Retired: use listThings."""
        return {"status": "ok"}

    app.include_router(router)
    install_openapi(app)
    r = TestClient(app).get("/v1/old-things")
    assert r.status_code == 200
    assert r.headers["Deprecation"] == "true" and r.headers["Sunset"] == SUNSET
    assert r.headers["Link"] == '</v1/things>; rel="successor-version"'
    assert r.headers["API-Version"]
    op = build_openapi(app)["paths"]["/old-things"]["get"]
    assert op["deprecated"] is True and op["operationId"] == "listOldThings"
