"""The ASGI app for process managers (`uvicorn cherish.api.asgi:app`, `cherish serve --workers N`)."""

from cherish.api.app import create_app

app = create_app()
