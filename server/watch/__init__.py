"""Turn file-system events into "a complete new model file for question Q"."""
