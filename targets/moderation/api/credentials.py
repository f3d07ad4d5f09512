"""Credentials of a service kept in a durable store, which holds none of them.

The store keeps a salted scrypt digest of the admin token and a random salt. Operators'
tokens are derived from the admin token and the salt (HMAC-SHA256), so a restarted service
given its admin token has the same operator tokens, and anyone who reads the store file
learns no credential from it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ..spec import ServiceSpec
from ..store import StoreError

TOKEN_CHARS = 32


class Credentials:
    def __init__(self, admin_token: str, salt: str) -> None:
        self.admin_token = admin_token
        self.salt = salt

    @classmethod
    def fresh(cls, admin_token: str) -> Credentials:
        return cls(admin_token, secrets.token_hex(16))

    @classmethod
    def resumed(cls, admin_token: str | None, meta: dict, where: str) -> Credentials:
        """The credentials of a stored service, if `admin_token` is the one it started with."""
        if "salt" not in meta or "admin_digest" not in meta:
            raise StoreError(f"{where} was written by an earlier version; start a new store")
        if admin_token is None:
            raise StoreError(
                f"{where} keeps only a digest of its admin token: give the admin token the "
                "service was started with"
            )
        given = cls(admin_token, meta["salt"])
        if not hmac.compare_digest(given.admin_digest(), meta["admin_digest"]):
            raise StoreError(f"{where}: the admin token given is not the one it was started with")
        return given

    def admin_digest(self) -> str:
        salt = bytes.fromhex(self.salt)
        return hashlib.scrypt(self.admin_token.encode(), salt=salt, n=2**14, r=8, p=1).hex()

    def apply(self, spec: ServiceSpec) -> ServiceSpec:
        """`spec` with the operators' tokens derived from the admin token."""
        key = self.admin_token.encode()
        return spec.with_tokens(
            {
                op.id: hmac.new(key, f"{self.salt}:{op.id}".encode(), "sha256").hexdigest()[
                    :TOKEN_CHARS
                ]
                for op in spec.operators
            }
        )

    def stored(self, spec: ServiceSpec) -> tuple[ServiceSpec, dict[str, str]]:
        """What the store keeps: the spec without tokens, and the salt and admin digest."""
        blank = spec.with_tokens({op.id: "" for op in spec.operators})
        return blank, {"salt": self.salt, "admin_digest": self.admin_digest()}
