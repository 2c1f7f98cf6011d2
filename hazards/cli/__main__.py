"""``python -m hazards.cli ...`` runs the ``hazards`` command."""

from hazards.cli import main

if __name__ == "__main__":
    main()
