#!/bin/sh
# The training text of bench/gpt: Debian's licence texts, the regular files of
# /usr/share/common-licenses in C-locale name order (its symlinks GFDL, GPL, LGPL point at files
# already in the list and are left out, so no text is in both the training and validation parts).
# Usage: bench/gpt/make-data.sh [OUT] (default /tmp/licenses.txt); prints the file list and size.
set -eu
out=${1:-/tmp/licenses.txt}
files=$(find /usr/share/common-licenses -maxdepth 1 -type f | LC_ALL=C sort)
# shellcheck disable=SC2086
cat $files > "$out"
echo "$files" | sed 's|.*/||' | tr '\n' ' '; echo
wc -c < "$out" | sed "s|\$| bytes in $out|"
