"""The WSGI entry point: `flask --app wsgi ...`, gunicorn `wsgi:app`, or `python wsgi.py`."""

import os

from app import create_app
from app.extensions import socketio
from app.web.headers import QuietRequestHandler

app = create_app()

if __name__ == "__main__":
    socketio.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "5000")),
        allow_unsafe_werkzeug=True,
        request_handler=QuietRequestHandler,  # no "Server: Werkzeug/x Python/y"
    )
