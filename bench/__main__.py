"""``python -m bench``: the benchmark's command line (see bench/README.md)."""

from bench.run import main

if __name__ == "__main__":  # pragma: no cover
    main()
