#!/bin/sh
# The plugin API's long output: perfdata on the first line and again after
# the first '|' of the later lines.
echo "WARNING - main text | a=1"
echo "long text line 2"
echo "long text line 3 | b=2s;1;2"
echo "'c d'=3%;;;0;100"
exit 1
