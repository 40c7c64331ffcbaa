"""gunicorn settings for Probity: `gunicorn wsgi:app` picks this file up from the working directory."""
import os

bind = os.environ.get("PROBITY_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 4
timeout = 300  # large encrypted uploads on slow (Tor) connections
# No access log, ever: it would record client addresses. Errors go to stderr, without addresses.
accesslog = None
disable_redirect_access_to_syslog = True
errorlog = "-"
loglevel = "warning"
forwarded_allow_ips = ""
