"""``/docs``: Swagger UI for the OpenAPI contract, served from the package.

FastAPI's default page loads Swagger UI from a third-party CDN (a supply-chain risk, and every
visitor's IP address goes to that CDN) and starts it with an inline script (which the page CSP
forbids). Here the swagger-ui-dist files are vendored under gateway/web/static/vendor (Apache
2.0, with LICENSE and NOTICE) and started by a static script, so the page runs under the same
CSP as every other page (gateway/core/headers.py). ReDoc is not served (it would need its CDN).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

SWAGGER_UI_VERSION = "5.35.0"  # gateway/web/static/vendor/swagger-ui-dist/package.json
_VENDOR = "/static/vendor/swagger-ui-dist"

DOCS_HTML = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Loket API</title>
<link rel="stylesheet" href="{_VENDOR}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{_VENDOR}/swagger-ui-bundle.js"></script>
<script src="/static/docs-init.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui() -> HTMLResponse:
    return HTMLResponse(DOCS_HTML)
