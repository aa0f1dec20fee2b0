"""``python -m plugbay``: the same as the ``plugbay`` command."""

from plugbay.cli import main

if __name__ == "__main__":
    main()
