"""Write this process's id to a file, then become the given command (same process id).

The proxy's tests start stdio upstreams through it, so that they can kill the very
process the proxy talks to: ``python pidexec.py <pidfile> <command> [args...]``.
"""

import os
import sys

with open(sys.argv[1], "w") as pidfile:
    pidfile.write(str(os.getpid()))
os.execvp(sys.argv[2], sys.argv[2:])
