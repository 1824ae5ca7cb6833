"""How gunicorn serves Tollgate: the Dockerfile starts it with this file, and so do the
benchmark, load and fault harnesses (`bench/`), so what is measured is what ships.

    gunicorn config.wsgi:application -c config/gunicorn.py --bind 0.0.0.0:8000
"""

import os

# Two cores in the reference deployment: a worker per core and one more.
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))

# Threaded workers. A sync worker reports to the master only between requests, so a
# response that streams for longer than `timeout` is killed mid-file: gates.csv at
# 50,000 initiatives (650,000 checklist rows, about a minute under load) arrived cut at
# 40 to 47 MB in every run. A gthread worker's main thread keeps reporting while its
# threads serve, so an export streams to the end (flat memory: it is read from a
# server-side cursor and written in 64 KiB pieces), `timeout` still restarts a worker
# that hangs, and a long download holds one thread, not a whole worker.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
# Persistent database connections (CONN_MAX_AGE) live per thread: at most
# workers x threads connections per container.

accesslog = "-"
