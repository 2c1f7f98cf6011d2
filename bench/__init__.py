"""The benchmark of ``hazards`` (issue 9): each step timed through its public function, beside
the raw floor the same data allows, on deterministic synthetic networks and surveys.

Run ``python -m bench --help`` from the repository root (``make bench``). It is not part of the
``hazards`` package: :mod:`bench.data` makes the data, :mod:`bench.floors` measures the floors
(the benchmark's own SQL), :mod:`bench.run` times the steps, :mod:`bench.report` writes the
results, :mod:`bench.browser` opens the maps in headless Chromium.
"""
