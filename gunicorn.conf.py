"""gunicorn settings for Flightdeck: `gunicorn -c gunicorn.conf.py wsgi:app` (see README).

Every setting can still be overridden on the command line (`--bind`, `--workers`…).
"""

import os

from gunicorn.http import wsgi as _http

bind = os.environ.get("FLIGHTDECK_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# A sync longer than this is a job for the RQ worker, not the web process.
timeout = 60
# Requests with huge header lines or too many headers are refused before the app sees them.
limit_request_line = 8190
limit_request_fields = 100


# gunicorn writes `Server: gunicorn` on every HTTP/1 response and has no setting to drop it;
# the banner only helps someone matching the server to known vulnerabilities. This runs when
# the master reads its config, before any worker is forked, so every worker inherits it.
_default_headers = _http.Response.default_headers


def _headers_without_server(self):
    return [h for h in _default_headers(self) if not h.lower().startswith("server:")]


_http.Response.default_headers = _headers_without_server
