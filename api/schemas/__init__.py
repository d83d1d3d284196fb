"""marshmallow schemas for every request and response body. They document
the API (OpenAPI at /openapi.json) and reject unknown fields when loading.
"""
