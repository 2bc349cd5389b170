#!/bin/sh
# As sleeper.sh, but SIGTERM is ignored (and its children inherit that), so
# only SIGKILL ends them.
trap '' TERM
sleep 30 &
sleep 30
