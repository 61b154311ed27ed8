"""``python -m csvbridge``."""

from .cli import main

main()
