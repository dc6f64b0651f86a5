# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Web users and bearer tokens in the Webapp's database (reference section 4.1).

* Default account ``admin``/``secret``, created once; it cannot be deleted. Its first login must
  set ``new_password`` (HTTP 401, error 1024 otherwise).
* Tokens are JWTs (:mod:`waent_sim.jwt`) and are also checked against the ``tokens`` table, so a
  logout revokes a token on every Webapp that shares the database.
* 30 failed logins per source address per hour -> 429 (:mod:`waent_sim.ratelimit`, in memory per
  Webapp process: DEVIATIONS.md W4).
"""

from __future__ import annotations

import dataclasses
import time

from waent_sim import jwt, passwords

DEFAULT_USER = "admin"
DEFAULT_PASSWORD = "secret"

TABLES = {
    "users": [("username", "key"), ("password_hash", "text"), ("role", "key"), ("must_change", "int")],
    "tokens": [("jti", "key"), ("username", "key"), ("expires", "int"), ("revoked", "int")],
}

# Outcomes of a login attempt.
OK = "ok"
BAD_CREDENTIALS = "bad credentials"
MUST_CHANGE = "must change"
BAD_NEW_PASSWORD = "bad new password"


@dataclasses.dataclass(frozen=True)
class LoginResult:
    outcome: str
    token: str | None = None
    claims: jwt.Claims | None = None
    problems: tuple = ()


class Users:
    """Users and tokens of one Webapp (``store``: the ``waweb`` database; ``key``: WA_WEB_JWT_CRYPTO_KEY)."""

    def __init__(self, store, key, *, clock=time.time):
        self.store = store
        self.key = key
        self.clock = clock

    def create_schema(self):
        self.store.create_tables(TABLES)
        # Insert-if-missing: a second Webapp on the same database keeps the first one's admin.
        if self._get(DEFAULT_USER) is None:
            self.store.insert_missing("users", {
                "username": DEFAULT_USER, "password_hash": passwords.hash_password(DEFAULT_PASSWORD),
                "role": "ROLE_ADMIN", "must_change": 1})

    def _get(self, username):
        row = self.store.one("SELECT username, password_hash, role, must_change FROM users WHERE username = %s",
                             (username,))
        return row

    def login(self, username, password, new_password=None):
        """One ``POST /v1/users/login``: checks the credentials, the mandatory first change, issues a token."""
        row = self._get(username)
        if row is None or not passwords.verify_password(password, row[1]):
            return LoginResult(BAD_CREDENTIALS)
        if new_password is not None:
            problems = tuple(passwords.password_problems(new_password))
            if problems:
                return LoginResult(BAD_NEW_PASSWORD, problems=problems)
            self.store.run("UPDATE users SET password_hash = %s, must_change = 0 WHERE username = %s",
                           (passwords.hash_password(new_password), username))
        elif row[3]:
            return LoginResult(MUST_CHANGE)
        token, claims = jwt.issue(self.key, username, row[2], clock=self.clock)
        self.store.run("INSERT INTO tokens (jti, username, expires, revoked) VALUES (%s, %s, %s, 0)",
                       (claims.jti, username, claims.exp))
        return LoginResult(OK, token=token, claims=claims)

    def authenticate(self, token):
        """The claims of a bearer token that is valid, known to the database and not revoked; else None."""
        try:
            claims = jwt.decode(token, self.key, clock=self.clock)
        except jwt.TokenError:
            return None
        row = self.store.one("SELECT revoked FROM tokens WHERE jti = %s AND username = %s",
                             (claims.jti, claims.sub))
        if row is None or row[0]:
            return None
        if self._get(claims.sub) is None:
            return None  # the user was deleted
        return claims

    def logout(self, claims):
        self.store.run("UPDATE tokens SET revoked = 1 WHERE jti = %s", (claims.jti,))

    def create(self, username, password, role="ROLE_USER"):
        """``POST /v1/users``: a list of problems (empty when created)."""
        problems = list(passwords.username_problems(username)) + list(passwords.password_problems(password))
        if not problems and self._get(username) is not None:
            problems.append(f"user {username} already exists")
        if not problems:
            self.store.run("INSERT INTO users (username, password_hash, role, must_change) VALUES (%s, %s, %s, 0)",
                           (username, passwords.hash_password(password), role))
        return problems

    def get(self, username):
        row = self._get(username)
        return None if row is None else {"username": row[0], "role": row[2]}

    def set_password(self, username, password):
        """``PUT /v1/users/{name}``: an error message, or None when set. The user's other tokens
        stay valid (the reference says nothing of revoking them); the admin's mandatory first
        change is not lifted this way, only by the login that sets ``new_password``."""
        if self._get(username) is None:
            return f"no user {username}"
        problems = list(passwords.password_problems(password))
        if problems:
            return "password: " + passwords.describe(problems)
        self.store.run("UPDATE users SET password_hash = %s WHERE username = %s",
                       (passwords.hash_password(password), username))
        return None

    def delete(self, username):
        """``DELETE /v1/users/{name}``: an error message, or None when deleted."""
        if username == DEFAULT_USER:
            return "the admin user cannot be deleted"
        if self._get(username) is None:
            return f"user {username} does not exist"
        self.store.run("DELETE FROM users WHERE username = %s", (username,))
        self.store.run("UPDATE tokens SET revoked = 1 WHERE username = %s", (username,))
        return None
