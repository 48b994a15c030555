"""The bare baseline: a minimal Flask login endpoint to hold the console against."""
