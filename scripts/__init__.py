"""Command-line entry points of the Makefile (make run, make distributed) and their shared parts."""
