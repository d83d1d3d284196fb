"""The WSGI entry point gunicorn loads in each worker process."""
from . import create_app

app = create_app()
