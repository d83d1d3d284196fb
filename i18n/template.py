"""The one place that knows the {placeholder} syntax of catalog messages.

Checking and rendering both go through `placeholders`, so a message the
checker accepts is a message the renderer can fill, and nothing else.
"""

import functools
import string

_FORMATTER = string.Formatter()


@functools.cache  # a few hundred distinct templates; parse each once
def placeholders(template: str) -> frozenset[str]:
    """The placeholder names in `template`; `{{` and `}}` are literal braces.

    Only plain names are allowed: `{limit}`, never `{limit:.2f}`, `{0}` or
    `{limit.real}`. Formatting belongs to the renderer (per language, via
    Babel), and attribute access in a staff-edited file has no business.
    Raises ValueError on anything else, including an unmatched brace.
    """
    names = set()
    for _literal, field, spec, conversion in _FORMATTER.parse(template):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ValueError(
                f"placeholder {{{field}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} must be a plain name such as "
                f"{{limit}}")
        names.add(field)
    return frozenset(names)
