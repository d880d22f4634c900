#!/usr/bin/env bash
# Debian's Chromium pinned to CPU 1, for bench/mesh-inference's browser paths: with the
# bench (and its model host) pinned to CPU 0, the asking browser stands in for another device
# instead of taking CPU time from the model it is asking.
exec taskset -c 1 /usr/bin/chromium "$@"
