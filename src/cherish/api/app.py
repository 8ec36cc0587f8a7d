"""Assembles the service: intake, REST API, dashboard and static assets, on one store."""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from cherish import __version__
from cherish.access.guard import Sessions
from cherish.access.service import instance_secret
from cherish.access.views import router as keys_router
from cherish.analytics.pages import router as overview_router
from cherish.analytics.views import router as metrics_router
from cherish.api import errors, openapi
from cherish.api.edge import Edge
from cherish.cases.incident_pages import router as incident_pages_router
from cherish.cases.incident_views import router as incidents_router
from cherish.cases.pages import router as case_pages_router
from cherish.cases.views import router as cases_router
from cherish.config import Settings, get_settings
from cherish.contact.pages import router as unsubscribe_router
from cherish.contact.views import router as contact_policy_router
from cherish.db.engine import Store, check_connection, open_store
from cherish.db.migrate import is_current
from cherish.errors import EngineError
from cherish.events.pages import router as rejected_actions_router
from cherish.events.views import router as intake_router
from cherish.feedback.pages import router as feedback_pages_router
from cherish.identity.pages import router as identity_pages_router
from cherish.identity.views import router as identity_router
from cherish.outbox.pages import router as outbox_pages_router
from cherish.outbox.views import router as outbox_router
from cherish.profiles.pages import router as customer_actions_router
from cherish.profiles.views import router as customers_router
from cherish.surveys.pages import router as survey_pages_router
from cherish.surveys.views import router as surveys_router
from cherish.web.pages import router as pages_router

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cherish API</title>
<link rel="icon" href="/static/favicon.svg"><link rel="stylesheet" href="/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/swagger-ui-bundle.js"></script><script src="/static/swagger-init.js"></script></body></html>
"""


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """The ASGI app for ``settings`` (read from the environment when not given)."""
    settings = settings or get_settings()
    store = store or open_store(settings.database_url, pool_size=settings.pool_size)
    check_connection(store)
    if not is_current(store):
        raise EngineError("the database schema is not up to date: run `cherish db upgrade` first")
    with store.write() as session:
        secret = settings.secret_key or instance_secret(session)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # What exists at start (modules, tables, routes) lives as long as the server: the garbage collector need
        # not walk it again on every full collection, which intake's many short-lived objects set off often.
        gc.freeze()
        yield
        store.dispose()

    app = FastAPI(
        title="cherish",
        version=__version__,
        description="Customer-experience engine: Segment-compatible intake, identity, customer 360, metrics.",
        lifespan=lifespan,
        docs_url=None,  # served below with Swagger UI from the package, not from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.secret = secret  # signs sessions; keys the login throttle's hashes
    app.state.store = store
    from cherish.events.committer import GroupCommitter
    from cherish.events.writer import WriterClient

    # intake batches share transactions when busy: in this process, or in the writer process `cherish serve`
    # starts on SQLite
    app.state.committer = WriterClient.from_environment(settings) or GroupCommitter(store, settings)
    app.add_middleware(Sessions, secret_key=secret, max_age=settings.session_max_age)
    # X-Forwarded-For/-Proto are believed from the proxies named, and only from them: the login throttle's
    # address and the session cookie's Secure flag follow (uvicorn's own copy of this layer is turned off)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    app.add_middleware(Edge)
    errors.install(app)
    openapi.install(app)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        # Swagger UI from the package (no CDN), started by a script file: the CSP allows no inline script
        return HTMLResponse(DOCS_PAGE)

    @app.get("/health", tags=["service"], summary="Answers when the service is ready")
    def health(request: Request) -> dict[str, Any]:
        check_connection(request.app.state.store)
        return {"status": "ok", "version": __version__, "database": request.app.state.store.dialect}

    app.include_router(intake_router)
    app.include_router(identity_router)  # before customers: /api/customers/merge is not a customer id
    app.include_router(customers_router)
    app.include_router(keys_router)
    app.include_router(outbox_router)
    app.include_router(contact_policy_router)
    app.include_router(unsubscribe_router)
    app.include_router(surveys_router)
    app.include_router(cases_router)
    app.include_router(incidents_router)
    app.include_router(case_pages_router)
    app.include_router(incident_pages_router)
    app.include_router(survey_pages_router)
    app.include_router(feedback_pages_router)
    app.include_router(outbox_pages_router)
    app.include_router(metrics_router)
    app.include_router(pages_router)
    app.include_router(overview_router)
    app.include_router(customer_actions_router)
    app.include_router(identity_pages_router)
    app.include_router(rejected_actions_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    logging.getLogger("cherish").setLevel(settings.log_level.upper())
    return app
