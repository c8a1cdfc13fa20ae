"""The OpenAPI description and its Swagger UI page work offline (no CDN)."""

from __future__ import annotations

from typing import Any


def test_docs_page_uses_only_assets_the_app_serves(client: Any) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    for asset in (
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
    ):
        assert asset in page.text
        assert client.get(asset).status_code == 200


def test_openapi_documents_the_api_and_webhooks(client: Any) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/reports/channels", "/api/campaigns/{code}/report", "/twilio/sms"} <= paths
