"""Helper package of the code bundle."""
