"""The trapheus operator command line: start, follow and inspect restore runs, draw the workflows."""
