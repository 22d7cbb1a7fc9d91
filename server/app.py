"""The FastAPI application: routes, error handling, local-only guard and the services' lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
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
    learner_digest: Callable[[str], str | None] | None = None
    if settings.classroom:
        # The instructor holds the service's token, each learner one of their own (the access
        # rules replace the single token check; the Host and Origin checks stay).
        from server.classroom.access import ClassroomAccess
        from server.classroom.roster import Roster
        from server.classroom.routes import classroom_router, instructor_page_router
        from server.classroom.sittings import Sittings

        roster = Roster(services.db)
        sittings = Sittings(settings, roster, services.sessions, services.clock)
        app.add_middleware(ClassroomAccess, instructor_token=settings.token, roster=roster,
                           codes=codes)
        app.add_middleware(LocalOnly, allowed_hosts=allowed, token=None)
        app.include_router(classroom_router(services, roster, sittings))
        app.include_router(instructor_page_router(services, roster))

        learner_digest = roster.token_digest_of_session
    else:
        app.add_middleware(LocalOnly, allowed_hosts=allowed, token=settings.token)
    errors.install(app)
    app.include_router(identity_router(settings.token, codes, learner_digest))
    app.include_router(router(services, broadcaster))
    app.include_router(downloads_router())
    try:
        from server.pages.routes import pages_router
    except ImportError:  # the pages arrive with the browser issue
        pass
    else:
        app.include_router(pages_router(services, codes))
    return app
