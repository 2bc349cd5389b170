#!/bin/sh
# What a shell does when the command it was told to run is missing.
exit 127
