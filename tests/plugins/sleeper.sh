#!/bin/sh
# Overruns any sane timeout, with a background child that sleeps too (in
# the plugin's process group: a script has no job control).
sleep 30 &
echo "partial output | p=1"
sleep 30
