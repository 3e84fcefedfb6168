"""Pages for everyone: the start page and the accessibility statement."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse

from gateway.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def start(request: Request) -> HTMLResponse:
    return render(request, "start.html", {"title": "Loket"})


@router.get("/toegankelijkheidsverklaring", response_class=HTMLResponse)
def accessibility_statement(request: Request) -> HTMLResponse:
    return render(request, "toegankelijkheidsverklaring.html", {"title": "Toegankelijkheidsverklaring"})
