"""`eventledger keys create|list|revoke`, on both backends: a created key authenticates, a revoked one never again.

The write endpoints are built elsewhere; here a route that exists only in the test app stands in for them.
"""

import re

import pytest
from flask import g

from api import create_app
from api.auth import InvalidKey, authenticate, require_scope
from api.db import database
from api.tables import ALL_MODELS, ApiKey

KEY_PATTERN = re.compile(r"^el_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$")


def create(runner, *args):
    result = runner.invoke(args=["keys", "create", *args])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    match = KEY_PATTERN.match(key)
    assert match, result.stdout
    return key, match.group(1), result


def live_key(header):
    with database.connection_context():
        return authenticate(header)


@pytest.fixture
def protected(app):
    """An app with two routes behind keys, as the write endpoints will be (built anew: the shared one has served)."""
    app = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True, "RATE_LIMIT_ENABLED": False})

    @app.post("/test-only/writes")
    @require_scope("read-write")
    def write():
        return {"author": g.api_key.name, "scope": g.api_key.scope}

    @app.post("/test-only/admin")
    @require_scope("admin")
    def administer():
        return {"author": g.api_key.name}

    return app.test_client()


def test_create_prints_the_key_once_with_a_warning(app, runner):
    key, prefix, result = create(runner, "newsroom bot")

    # Only the key on stdout, so that `KEY=$(eventledger keys create bot)` captures it alone.
    assert result.stdout == f"{key}\n"
    assert f"prefix {prefix}" in result.stderr
    assert "scope read-write" in result.stderr
    assert "cannot be shown again" in result.stderr
    with database.connection_context():
        row = ApiKey.get(ApiKey.prefix == prefix)
    assert (row.name, row.scope, row.revoked_at) == ("newsroom bot", "read-write", None)
    assert key not in row.key_hash and row.key_hash != key
    assert live_key(f"Bearer {key}").id == row.id


def test_create_with_the_admin_scope(app, runner):
    key, _, result = create(runner, "editor", "--scope", "admin")
    assert "scope admin" in result.stderr
    assert live_key(f"Bearer {key}").scope == "admin"


def test_create_refuses_an_unknown_scope_and_a_blank_name(app, runner):
    result = runner.invoke(args=["keys", "create", "bot", "--scope", "owner"])
    assert result.exit_code == 2
    assert "'owner' is not one of 'read-write', 'admin'" in result.output
    result = runner.invoke(args=["keys", "create", "  "])
    assert result.exit_code == 2
    assert "give the key a name" in result.output
    with database.connection_context():
        assert ApiKey.select().count() == 0


def test_every_key_is_different(app, runner):
    keys = {create(runner, "same name")[0] for _ in range(3)}
    assert len(keys) == 3


def test_list_shows_prefix_name_scope_created_and_revoked_but_never_a_secret(app, runner):
    empty = runner.invoke(args=["keys", "list"])
    assert empty.exit_code == 0
    assert "No API keys yet" in empty.output

    first, first_prefix, _ = create(runner, "newsroom bot")
    second, second_prefix, _ = create(runner, "editor", "--scope", "admin")
    assert runner.invoke(args=["keys", "revoke", first_prefix]).exit_code == 0

    result = runner.invoke(args=["keys", "list"])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Database: {app.config['DATABASE_URL']}\n"  # every keys command names its database
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PREFIX", "NAME", "SCOPE", "CREATED", "REVOKED"]
    timestamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.fullmatch(rf"{first_prefix}\s+newsroom bot\s+read-write\s+{timestamp}\s+{timestamp}", lines[1])
    assert re.fullmatch(rf"{second_prefix}\s+editor\s+admin\s+{timestamp}\s+-", lines[2])
    assert len(lines) == 3
    with database.connection_context():
        hashes = [row.key_hash for row in ApiKey.select()]
    for secret in (first, second, first.split("_", 2)[2], *hashes):  # el_<prefix>_<secret>: the secret may hold "_"
        assert secret not in result.output


def test_revoke_stops_the_key_at_once(app, runner):
    key, prefix, _ = create(runner, "newsroom bot")
    other, _, _ = create(runner, "editor")

    result = runner.invoke(args=["keys", "revoke", prefix])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Revoked API key {prefix} ('newsroom bot'): it no longer authenticates.\n"
    with pytest.raises(InvalidKey, match="revoked"):
        live_key(f"Bearer {key}")
    assert live_key(f"Bearer {other}").name == "editor"

    again = runner.invoke(args=["keys", "revoke", prefix])
    assert again.exit_code == 0
    assert "was already revoked" in again.output


def test_revoke_an_unknown_prefix_fails_clearly(app, runner):
    create(runner, "newsroom bot")
    result = runner.invoke(args=["keys", "revoke", "deadbeef"])
    assert result.exit_code == 1
    assert "No API key has the prefix 'deadbeef'" in result.output
    assert "Traceback" not in result.output
    with database.connection_context():
        assert ApiKey.select().where(ApiKey.revoked_at.is_null(False)).count() == 0


def test_commands_on_a_database_without_tables_say_what_to_do(app, runner):
    with database.connection_context():
        database.drop_tables(ALL_MODELS, safe=True, cascade=app.config["DATABASE_URL"].startswith("postgres"))
    for args in (["keys", "list"], ["keys", "create", "bot"], ["keys", "revoke", "deadbeef"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, args
        assert "run `eventledger init-db` first" in result.output, args


# --- Through HTTP ---------------------------------------------------------------------------


def test_a_created_key_authenticates_over_http_and_a_revoked_one_does_not(app, runner, protected):
    key, prefix, _ = create(runner, "newsroom bot")

    response = protected.post("/test-only/writes", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"author": "newsroom bot", "scope": "read-write"}

    assert runner.invoke(args=["keys", "revoke", prefix]).exit_code == 0
    response = protected.post("/test-only/writes", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "The API key was revoked."
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="eventledger"'


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer el_00000000_nope", "Bearer not-a-key"],
)
def test_no_or_a_bad_key_is_a_401_problem(app, protected, header):
    response = protected.post("/test-only/writes", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 401


def test_a_tampered_key_with_a_real_prefix_is_refused(app, runner, protected):
    key, _, _ = create(runner, "newsroom bot")
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    response = protected.post("/test-only/writes", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401
    assert response.get_json()["detail"] == "The API key is not valid."


def test_scope_is_enforced(app, runner, protected):
    writer, _, _ = create(runner, "newsroom bot")
    admin, _, _ = create(runner, "editor", "--scope", "admin")

    response = protected.post("/test-only/admin", headers={"Authorization": f"Bearer {writer}"})
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "'admin' scope" in response.get_json()["detail"]
    response = protected.post("/test-only/admin", headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code == 200
    response = protected.post("/test-only/writes", headers={"Authorization": f"Bearer {admin}"})
    assert response.get_json() == {"author": "editor", "scope": "admin"}
