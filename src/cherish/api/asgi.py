"""The ASGI app for process managers (`uvicorn cherish.api.asgi:app`, `cherish serve --workers N`)."""

from cherish.api.app import create_app
from cherish.api.edge import configure_logging
from cherish.config import get_settings
from cherish.processes import exit_with_server

exit_with_server()  # a server process of `cherish serve --workers N` ends with that server, kill -9 included
# each server process logs on its own (`cherish serve --workers N` starts them afresh, without the parent's setup)
configure_logging(get_settings().log_level, access=get_settings().access_log)
app = create_app()
