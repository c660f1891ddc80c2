"""Security headers: nosniff and no referrer everywhere, the strictest CSP on API responses, and on the two
HTML pages a policy that allows their own files and exactly their inline blocks."""

import base64
import hashlib
import re

from writes_helpers import API

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
API_URLS = [
    f"{API}",
    f"{API}/events?limit=2",
    f"{API}/events/no-such-event",
    f"{API}/events?format=csv",
    f"{API}/changes.atom",
    f"{API}/openapi.json",
    f"{API}/datapackage.json",
    "/healthz",
    "/readyz",
    f"{API}/events?limit=banana",
]


def test_every_api_response_is_locked_down(seeded, client):
    for url in API_URLS:
        response = client.get(url)
        response.get_data()
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"] == "no-referrer", url
        assert response.headers["Content-Security-Policy"] == API_POLICY, url
    preflight = client.options(
        f"{API}/events", headers={"Origin": "https://a.example", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.headers["X-Content-Type-Options"] == "nosniff"


def sha256(block):
    return "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"


def directives(policy):
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def test_the_html_pages_allow_their_own_files_and_exactly_their_inline_blocks(seeded, client):
    for url in ("/docs", "/docs/data-dictionary"):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/html", url
        html = response.get_data(as_text=True)
        policy = directives(response.headers["Content-Security-Policy"])
        assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], url
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
        assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
        for kind in ("script", "style"):
            inline = re.findall(rf"<{kind}(?![^>]*\bsrc=)[^>]*>(.*?)</{kind}>", html, re.DOTALL)
            assert sorted(policy[f"{kind}-src"]) == sorted(["'self'", *map(sha256, inline)]), (url, kind)
        for source in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html):
            assert source.startswith("/"), (url, source)  # this origin only: the page works offline
        assert response.headers["X-Content-Type-Options"] == "nosniff"
