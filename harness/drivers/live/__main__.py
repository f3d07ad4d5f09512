"""The live-mode process: Locust first (gevent must patch the standard library before ssl
and sockets are imported), then the harness command line as usual. When the command line
replaced itself with this process, Ctrl-C and SIGTERM are held until the run (or the
worker) can take them (`harness.interrupts.release_signals`)."""

import locust  # noqa: F401, I001  (must be the first import)

import sys

from harness.cli import main

sys.exit(main(sys.argv[1:]))
