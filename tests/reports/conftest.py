"""The June 2026 story of tests/metrics (hand-built cases with known figures) for the work report tests."""

from tests.metrics.conftest import story  # noqa: F401  (fixture)
from tests.metrics.test_figures import june  # noqa: F401  (fixture)
