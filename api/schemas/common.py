"""Shared schemas: the error body, strict loading, amounts as text."""
from __future__ import annotations

import functools

from marshmallow import RAISE, Schema, fields, validate

AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


class Strict(Schema):
    class Meta:
        unknown = RAISE


def money(example: str = "12.50", **kwargs) -> fields.String:
    """An amount in an answer: exact decimal text, as the engine writes it."""
    metadata = {"pattern": AMOUNT_PATTERN, "example": example, **kwargs.pop("metadata", {})}
    return fields.String(metadata=metadata, **kwargs)


class ProblemSchema(Strict):
    """application/problem+json, for every failure."""

    code = fields.String(required=True, metadata={"description": "stable machine-readable code",
                                                  "example": "invalid_request"})
    status = fields.Integer(required=True, metadata={"example": 422})
    title = fields.String(required=True, metadata={"description": "the HTTP status phrase"})
    message = fields.String(required=True, metadata={"description": "what went wrong, for a developer"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "validation failures: field path -> messages",
                                   "example": {"event.model": ["unknown model 'x'"]}})


class PageQuerySchema(Strict):
    """Every list pages the same way (storage/pages.py): ``limit`` rows from
    just past ``cursor``, the ``next`` of the page before."""
    cursor = fields.String(validate=validate.Length(1, 512),
                           metadata={"description": "the `next` of the previous page (opaque)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


@functools.cache
def page_of(item: type[Schema]) -> type[Schema]:
    """The schema of a page of ``item``: ``{"items": [...], "next": cursor or null}``."""
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    return type(name, (Strict,), {
        "items": fields.List(fields.Nested(item), required=True),
        "next": fields.String(required=True, allow_none=True,
                              metadata={"description": "the cursor of the next page; null on the last"}),
    })
