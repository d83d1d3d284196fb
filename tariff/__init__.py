"""tariff: a billing policy service.

Billing rules are declarative YAML (the shipped set is ``tariff.policies``),
evaluated by durable_rules in ``tariff.engine``; ``tariff.api`` serves the
decisions over HTTP, ``tariff.storage`` keeps the books, ``tariff.cli`` is
the ``tariff`` command and ``tariff.i18n`` words messages for people.

The source folders stay at the top of the repository (``engine/``,
``api/``, ...) and setup.cfg maps them under this one package.
"""
__version__ = "0.2.0"
