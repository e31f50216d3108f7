"""Start the textdesk server: ``python run.py [--host H] [--port P] [--flows DIR] [--db PATH] ...``."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
