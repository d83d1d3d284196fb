"""The API reference pages at /docs: flask-smorest's Swagger UI page over
/openapi.json, with Swagger UI's files served from the swagger-ui-bundle
wheel (pinned in setup.cfg), so the page loads nothing from the internet and
needs no build step."""
from __future__ import annotations

from flask import Blueprint, abort, send_from_directory
from swagger_ui_bundle import swagger_ui_path

PAGE = "/docs"
ASSETS = "/docs/assets/"
# The files the page asks for; nothing else in the bundle is served.
FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                   "favicon-32x32.png", "favicon-16x16.png"})

# Read by flask-smorest: where the page is, and the prefix of its files.
CONFIG = {"OPENAPI_SWAGGER_UI_PATH": PAGE, "OPENAPI_SWAGGER_UI_URL": ASSETS}

blp = Blueprint("docs_assets", __name__)


@blp.route(ASSETS + "<name>")
def asset(name: str):
    if name not in FILES:
        abort(404)
    return send_from_directory(swagger_ui_path, name, max_age=86400)
