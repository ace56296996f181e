#!/bin/sh
# The image's roles. Each execs node, so the process gets SIGTERM itself and drains or shuts down
# (serving/main.ts drains its requests; the Temporal worker finishes its tasks).
#   worker                 worker/main.ts
#   model-server           serving/main.ts
#   perennial <command>    the CLI, client/bin.mjs
# Anything else runs as given (node, sh).
set -eu
[ "$#" -gt 0 ] || set -- worker
case "$1" in
  worker) shift; exec node --import tsx worker/main.ts "$@" ;;
  model-server) shift; exec node --import tsx serving/main.ts "$@" ;;
  perennial) shift; exec node client/bin.mjs "$@" ;;
  *) exec "$@" ;;
esac
