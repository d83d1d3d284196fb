"""A quick path through a marshmallow schema, generated from the schema itself.

marshmallow is the authority (it documents a request, and judges and words
every error), but its machinery costs more per decision than durable_rules
(bench/bench_engine.py --breakdown). ``quick_loader(schema)`` walks the
schema's own declared fields once and returns a loader that accepts only
what is plainly well formed, with marshmallow's result, and answers None for
everything else, even what marshmallow would accept, so marshmallow decides.
Stricter, never looser (tests/engine/test_engine_request_fast.py holds it to
that). What it takes from the schema, re-declaring nothing:

- the fields, their data keys and attributes, ``required``, ``allow_none``
  and ``load_default``; unknown keys are refused (the schemas are strict);
- each field's value, when it is already of the field's exact type
  (``str``, ``int``, ``bool``; a ``date`` or ISO ``YYYY-MM-DD`` text for a
  date), then the field's own validators (Range, OneOf, Length, ...);
- nested schemas, and dictionaries of keys and values, recursively;
- fields with a ``quick_checker(build)`` method check their own values
  (schema.Money and Limit: text, int or Decimal amounts; the request's event
  field: one schema per event type);
- the schemas' ``@validates_schema`` hooks, called on the result.

Anything it does not know (another field class, a pre- or post-load hook)
makes that part always unsure, and is listed in ``uncovered`` (a test keeps
it empty).
"""
from __future__ import annotations

from datetime import date
from functools import partial

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from marshmallow.constants import missing
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

# What a check may raise to say "not plainly well formed": marshmallow's
# validators and hooks raise ValidationError, the rest ValueError (a type or a
# value it does not take), KeyError (an unknown field) or TypeError.
UNSURE = (ValueError, ValidationError, TypeError, KeyError)
# Fields whose loaded value is the value sent, when it has this exact type.
EXACT = {fields.String: str, fields.Boolean: bool}


def _day(value):
    if type(value) is date:
        return value
    if type(value) is not str or len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise ValueError
    return date.fromisoformat(value)


def _unsure(value):
    raise ValueError


def _holds(validators):
    """One predicate for a field's validators: Range, OneOf and Length compiled to
    comparisons, any other called as it is (raising ValidationError). None: no validators."""
    tests = []
    for v in validators:
        if type(v) is validate.Range:
            tests.append(partial(_in_range, v.min, v.max, v.min_inclusive, v.max_inclusive))
        elif type(v) is validate.OneOf:
            tests.append(frozenset(v.choices).__contains__)
        elif type(v) is validate.Length and v.equal is None:
            tests.append(partial(_length, v.min or 0, v.max))
        else:
            tests.append(partial(_called, v))
    if len(tests) <= 1:
        return tests[0] if tests else None
    return lambda value: all(test(value) for test in tests)


def _in_range(low, high, low_inclusive, high_inclusive, value) -> bool:
    if low is not None and (value < low if low_inclusive else value <= low):
        return False
    return high is None or (value <= high if high_inclusive else value < high)


def _bounds(validators):
    """(low, high) when a field's only validator is an inclusive Range (either may be None), else None."""
    if len(validators) == 1 and type(validators[0]) is validate.Range:
        v = validators[0]
        if v.min_inclusive and v.max_inclusive:
            return v.min, v.max
    return None


def _within(exact, convert, low, high):
    """A check for a value of type ``exact`` (or converted by ``convert``) in [low, high]."""
    if exact is None:
        def check(value):
            out = convert(value)
            if (low is None or out >= low) and (high is None or out <= high):
                return out
            raise ValueError
    elif high is None:
        def check(value):
            if type(value) is exact and value >= low:
                return value
            raise ValueError
    elif low is None:
        def check(value):
            if type(value) is exact and value <= high:
                return value
            raise ValueError
    else:
        def check(value):
            if type(value) is exact and low <= value <= high:
                return value
            raise ValueError
    return check


def _length(low, high, value) -> bool:
    return low <= len(value) and (high is None or len(value) <= high)


def _called(validator, value) -> bool:
    validator(value)  # raises ValidationError where it does not hold
    return True


class _Builder:
    def __init__(self):
        self.uncovered: list[str] = []
        self._schemas: dict = {}

    def schema(self, schema: Schema):
        """A check for a mapping loaded with ``schema``: the loaded dict, or an UNSURE error."""
        key = id(schema)
        if key not in self._schemas:
            self._schemas[key] = self._schema(schema)
        return self._schemas[key]

    def _schema(self, schema: Schema):
        name = type(schema).__name__
        hooks = schema._hooks
        if schema.unknown != RAISE or hooks[PRE_LOAD] or hooks[POST_LOAD] or hooks[VALIDATES]:
            self.uncovered.append(f"{name}: unknown fields, pre_load, post_load or validates")
            return _unsure
        by_key, required, defaults = {}, [], []
        for attr, field in schema.load_fields.items():
            key = field.data_key or attr
            by_key[key] = (field.attribute or attr, self.field(field, f"{name}.{key}"))
            if field.required:
                required.append(key)
            elif field.load_default is not missing:
                defaults.append((field.attribute or attr, field.load_default))
        validators = []
        for attr, many, options in hooks[VALIDATES_SCHEMA]:
            if many or options.get("pass_original"):
                self.uncovered.append(f"{name}.{attr}: a hook on the original or on many")
                return _unsure
            validators.append(getattr(schema, attr))

        required = frozenset(required)
        constants = {attr: default for attr, default in defaults if not callable(default)}
        made = [(attr, default) for attr, default in defaults if callable(default)]

        def check(value):
            if type(value) is not dict:
                raise ValueError
            out = constants.copy() if constants else {}  # defaults that are values; sent values replace them
            for key, item in value.items():
                attr, convert = by_key[key]  # KeyError: an unknown field
                out[attr] = convert(item)
            if required and not required <= value.keys():
                raise ValueError
            if made:
                for attr, default in made:
                    if attr not in out:
                        out[attr] = default()
            if validators:
                for hook in validators:
                    hook(out, partial=None, many=False, unknown=RAISE)
            return out
        return check

    def field(self, field: fields.Field, name: str):
        """A check for one field's value: marshmallow's result for it, or an UNSURE error."""
        exact = convert = None
        own = getattr(field, "quick_checker", None)
        if own is not None:
            convert = own(self.schema)
        elif isinstance(field, fields.Nested):
            convert = self.schema(field.schema)
        elif isinstance(field, fields.Dict):
            keys = self.field(field.key_field, f"{name} keys") if field.key_field else None
            values = self.field(field.value_field, f"{name} values") if field.value_field else None
            if keys is None or values is None:
                self.uncovered.append(f"{name}: a Dict without key and value fields")
                convert = _unsure
            else:
                def convert(value):
                    if type(value) is not dict:
                        raise ValueError
                    return {keys(k): values(v) for k, v in value.items()}
        elif type(field) in EXACT or (isinstance(field, fields.Integer) and field.strict):
            exact = EXACT.get(type(field), int)
        elif isinstance(field, fields.Date) and field.format in (None, "iso", "iso8601"):
            convert = _day
        else:
            self.uncovered.append(f"{name}: {type(field).__name__}")
            convert = _unsure
        holds, allow_none = _holds(field.validators), field.allow_none
        bounds = _bounds(field.validators)
        if bounds is not None and not allow_none:  # the commonest check, inline: a value within a range
            return _within(exact, convert, *bounds)
        if exact is not None:  # the value as it is, if it has the type: no conversion
            def check(value):
                if type(value) is exact and (holds is None or holds(value)):
                    return value
                if value is None and allow_none:
                    return None
                raise ValueError
            return check
        if holds is None and not allow_none:
            return convert

        def check(value):
            if value is None and allow_none:
                return None
            out = convert(value)
            if holds is None or holds(out):
                return out
            raise ValueError
        return check


def quick_loader(schema: Schema):
    """``load(payload)``: what ``schema.load(payload)`` returns when the payload is
    plainly well formed, else None. ``load.uncovered`` lists what it cannot check."""
    builder = _Builder()
    check = builder.schema(schema)

    def load(payload):
        try:
            return check(payload)
        except UNSURE:
            return None
    load.uncovered = builder.uncovered
    return load
