"""``python -m app`` starts the web app; ``python -m app COMMAND ...`` runs the CLI."""

import sys

from app.cli.main import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
