#!/bin/sh
# Dies of SIGKILL after printing a line.
echo "about to die"
kill -9 $$
