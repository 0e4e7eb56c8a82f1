"""Every workflow of esbackend is a nox session: ``nox -l`` lists them."""

from __future__ import annotations

import nox

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "lint"]

# The Python versions we support, as the pyproject classifiers list them.
PYTHONS = nox.project.python_versions(nox.project.load_toml("pyproject.toml"))


def _install(session: nox.Session, *extra: str) -> None:
    session.install("-e", ".[dev]", *extra)


def _pytest(session: nox.Session, *default_args: str) -> None:
    """Run pytest with warnings as errors; ``nox -s X -- ARGS`` replaces the defaults."""
    session.run("pytest", "-W", "error", "--strict-markers", *(session.posargs or default_args))


@nox.session
def tests(session: nox.Session) -> None:
    """The default test run, on the interpreter that runs nox.

    Elastic's YAML REST tests run twice: through the fake's node class (with everything
    else) and over real HTTP through the emulator.
    """
    _install(session)
    _pytest(session)
    if not session.posargs:
        _pytest(session, "tests/conformance", "--es-target=emulator", "-q")
        _downstream(session)


def _downstream(session: nox.Session) -> None:
    """The example project's own tests: the plugin's fixtures, no conftest of its own."""
    session.install("./examples/downstream")
    with session.chdir("examples/downstream"):
        session.run("pytest", "-W", "error", "-q")


@nox.session(default=False)
def downstream(session: nox.Session) -> None:
    """examples/downstream against esbackend installed from its wheel, as a user gets it."""
    session.install(".", "pytest")
    _downstream(session)


@nox.session(python=PYTHONS, default=False)
def matrix(session: nox.Session) -> None:
    """The default test run on every supported Python."""
    _install(session)
    _pytest(session)


@nox.session(default=False)
@nox.parametrize("client", ["8", "9"])
def compat(session: nox.Session, client: str) -> None:
    """The test suite on elasticsearch-py 8.x and on 9.x (``nox -s "compat(client='8')"``)."""
    _install(session)
    session.install(
        f"elasticsearch>={client}.13,<{int(client) + 1}"
        if client == "8"
        else f"elasticsearch>={client}.0,<{int(client) + 1}"
    )
    session.run("python", "-c", "import elasticsearch; print(elasticsearch.__versionstr__)")
    _pytest(session)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) and mypy --strict on the packages."""
    _install(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks on the embedded in-memory cluster; ratio targets summarised at the end."""
    _install(session)
    session.run(
        "pytest",
        "bench",
        "-W",
        "error",
        "-p",
        "no:cacheprovider",
        "--benchmark-sort=name",
        "--benchmark-columns=min,median,ops,rounds",
        "--benchmark-group-by=group",
        "--benchmark-autosave",
        "--benchmark-storage=bench/results",
        *session.posargs,
    )
