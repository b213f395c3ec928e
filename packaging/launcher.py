"""Entry script of the frozen build (PyInstaller): the same ``jiedao`` command as the installed one."""
import sys

from shell.cli import main

if __name__ == "__main__":
    sys.exit(main())
