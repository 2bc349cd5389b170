#!/bin/sh
# Exits at once but leaves a background child holding stdout open.
sleep 30 &
echo "OK - bye | x=1"
exit 0
