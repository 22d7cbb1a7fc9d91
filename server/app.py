"""The FastAPI application: routes, error handling, local-only guard and the services' lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from server.api import errors
from server.api.broadcast import Broadcaster
from server.api.downloads import downloads_router
from server.api.identity import BrowserCodes, identity_router
from server.api.routes import router
from server.api.security import LocalOnly
from server.clock import Clock
from server.config import Settings
from server.services import Services


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    services = Services(settings, clock)
    broadcaster = Broadcaster(services.store, services.status_or_none, services.clock.now)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        services.start()
        await broadcaster.start()
        try:
            yield
        finally:
            await broadcaster.stop()
            services.stop()

    app = FastAPI(
        title="tfexam",
        summary="A local mock of the TensorFlow Developer Certificate exam",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.broadcaster = broadcaster
    app.state.browser_codes = codes = BrowserCodes()
    allowed = {settings.host, *settings.extra_hosts}
    app.add_middleware(LocalOnly, allowed_hosts=allowed, token=settings.token)
    errors.install(app)
    app.include_router(identity_router(settings.token, codes))
    app.include_router(router(services, broadcaster))
    app.include_router(downloads_router())
    try:
        from server.pages.routes import pages_router
    except ImportError:  # the pages arrive with the browser issue
        pass
    else:
        app.include_router(pages_router(services, codes))
    return app
