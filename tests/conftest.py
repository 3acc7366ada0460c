"""Shared test configuration: fixtures live in tests/fixtures/, one module per area."""

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.registry",
    "tests.fixtures.calendar",
    "tests.fixtures.trust",
    "tests.fixtures.envelope",
    "tests.fixtures.smtp",
]
