"""The console at /console: pages for owners (an organization's usage) and for
billing staff (the workbench), served by `tariff serve` with no build step
and nothing from the internet (templates and static files ship in the
package).

The pages are thin: the server renders the frame in the reader's language
(``?lang=``, else Accept-Language) and their JavaScript calls the JSON API
(/v1/...) with the signed-in person's token, so a page never shows what the
API would refuse that person. Amounts are formatted from their exact decimal
text in the browser (static/console.js), never through a float.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from tariff.i18n import SUPPORTED

from ..messages import language
from . import reference
from .strings import NAMES, strings

blp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates", static_folder="static")


def _lang() -> str:
    chosen = request.args.get("lang")
    return chosen if chosen in SUPPORTED else language(request.headers.get("Accept-Language"))


def _page(template: str, page: str, **context):
    lang = _lang()
    return render_template(f"console/{template}", lang=lang, t=strings(lang), languages=NAMES, page=page,
                           **context)


@blp.route("", strict_slashes=False)
def sign_in():
    return _page("sign_in.html", "sign-in")


@blp.route("/organizations/<org_id>")
def usage(org_id: str):
    return _page("usage.html", "usage", org_id=org_id)


@blp.route("/workbench")
def workbench():
    return _page("workbench.html", "workbench")


@blp.route("/billing-rules")
def billing_rules():
    html = reference.billing_rules_html()
    if html is None:
        abort(404)
    return _page("billing_rules.html", "billing-rules", reference=html)


@blp.after_request
def _headers(response):
    # The pages load only their own files and talk only to this server.
    response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                "style-src 'self'; script-src 'self'; frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
