"""Security headers on every response.

Every response says `X-Content-Type-Options: nosniff` (a JSON body is never run as a script or styled
as a page) and `Referrer-Policy: no-referrer`. An API response (JSON, CSV, Atom, a zip) gets the
strictest Content-Security-Policy there is, `default-src 'none'; frame-ancestors 'none'`: it loads
nothing and no page may frame it. The two HTML pages, /docs (Swagger UI) and the data dictionary, get
a policy that allows what they need from this origin only, and their inline scripts and styles by
their SHA-256 (computed from the page as served, so the policy cannot drift from the page).
"""

import base64
import hashlib
import re

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
_INLINE = {
    "script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE),
    "style": re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE),
}


def _hashes(kind, html):
    return " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"
        for block in _INLINE[kind].findall(html)
    )


def page_policy(html):
    """The Content-Security-Policy of an HTML page of this app: its own origin, its inline blocks by hash."""
    return (
        f"default-src 'none'; script-src 'self' {_hashes('script', html)}".rstrip()
        + "; "
        + f"style-src 'self' {_hashes('style', html)}".rstrip()
        + "; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def add_security_headers(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if response.mimetype == "text/html" and not response.is_streamed:
        policy = page_policy(response.get_data(as_text=True))
    else:
        policy = API_POLICY
    response.headers.setdefault("Content-Security-Policy", policy)
    return response


def init_app(app):
    app.after_request(add_security_headers)
