"""``python -m plugboard``: the same as the ``plugboard`` command."""

from plugboard.cli import main

if __name__ == "__main__":
    main()
