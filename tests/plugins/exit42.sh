#!/bin/sh
# An exit code outside the plugin API's 0-3.
echo "something odd"
exit 42
