"""tariff's HTTP API: Flask + flask-smorest over the engine's public face.

    from tariff.api import create_app
    app = create_app({"POLICIES_DIR": "policies"})

Kept import-light on purpose: ``tariff serve`` imports ``api.serve`` in the
gunicorn master, which must not import prometheus_client (or the engine's
runtime) before the multiprocess metrics directory is set.
"""


def create_app(test_config=None):
    from .app import create_app as _create_app
    return _create_app(test_config)


__all__ = ["create_app"]
