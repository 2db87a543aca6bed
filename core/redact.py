"""Secrets kept out of everything exptui shows or writes down.

Users put credentials in remote URLs (``https://user:token@host/repo``,
``ssh://user:pw@host/path``) because Git and DVC accept them there. Those URLs reach error
lines, plans, ``--json`` output, toasts and the listing cache; each of those shows the URL
with its password replaced, while the connection itself keeps using the real one.
"""

from __future__ import annotations

import re

# scheme://user:secret@ — the secret runs to the last '@' before the host's path, so an
# unencoded '@' inside a password is hidden too.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^/\s]*@")
# https://TOKEN@host: a user name alone over HTTP is how tokens are usually passed.
_HTTP_USER = re.compile(r"(?P<scheme>\bhttps?://)[^:/@\s]+@", re.IGNORECASE)
HIDDEN = "***"


def redact(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***`` (and the user
    name of an HTTP(S) URL, which is often a token)."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{HIDDEN}@", text)
    return _HTTP_USER.sub(lambda m: f"{m['scheme']}{HIDDEN}@", text)
