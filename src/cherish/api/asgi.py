"""The ASGI app for process managers (`uvicorn cherish.api.asgi:app`, `cherish serve --workers N`)."""

from cherish.api.app import create_app
from cherish.processes import exit_with_server

exit_with_server()  # a server process of `cherish serve --workers N` ends with that server, kill -9 included
app = create_app()
