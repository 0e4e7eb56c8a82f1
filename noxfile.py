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
# The oldest Celery we support (pyproject: celery>=5.3), one in between, and the newest.
@nox.parametrize("celery", ["5.3", "5.5", "5.7"])
def compat(session: nox.Session, client: str, celery: str) -> None:
    """The test suite on elasticsearch-py 8.x / 9.x x Celery minors.

    ``nox -s "compat(celery='5.3', client='8')"`` runs one cell.
    """
    _install(session)
    session.install(
        f"elasticsearch>={client}.13,<{int(client) + 1}"
        if client == "8"
        else f"elasticsearch>={client}.0,<{int(client) + 1}",
        f"celery~={celery}.0",
    )
    session.run(
        "python",
        "-c",
        "import celery, elasticsearch; "
        "print('elasticsearch', elasticsearch.__versionstr__, 'celery', celery.__version__)",
    )
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
    """get/mget throughput on the embedded cluster: a table, ratio targets and a PNG chart.

    Runs on the fake node and the HTTP emulator; ``nox -s bench -- --es-target=docker`` (or
    ``=http://host:9200``) runs on that target instead, ``-- --bench-enforce`` fails the run
    when a ratio target is missed. Results: ``bench/results/`` (JSON, throughput.png).
    """
    _install(session)
    # Celery's built-in backend, the baseline we compare with, only runs on elasticsearch-py
    # 8.x (on 9.x it fails building its client); esbackend runs on both. matplotlib draws the
    # chart and is needed nowhere else; orjson, when installed, is what esbackend decodes
    # responses with (the "esbackend-stdlib" rows show it without).
    session.install("elasticsearch>=8.13,<9", "matplotlib", "orjson")
    session.run(
        "pytest",
        "bench",
        "-W",
        "error",
        "--strict-markers",
        "-p",
        "no:cacheprovider",
        "--benchmark-group-by=group",
        "--benchmark-sort=name",
        "--benchmark-columns=median,ops,rounds",
        # Enough rounds for stable medians, and the whole session within ~3 minutes.
        "--benchmark-max-time=0.3",
        "--benchmark-autosave",
        "--benchmark-storage=bench/results",
        "--benchmark-json=bench/results/latest.json",
        *session.posargs,
    )


# The release of each supported major that the docker target runs by default.
ES_VERSIONS = {"8": "8.19.3", "9": "9.2.0"}


@nox.session(default=False)
@nox.parametrize("major", list(ES_VERSIONS))
def integration(session: nox.Session, major: str) -> None:
    """The contract suite and the YAML REST tests on a real Elasticsearch in Docker.

    Without a reachable Docker engine this fails at once, naming what is missing and where it
    looked. ``nox -s "integration(major='8')" -- --es-version=8.15.5 --es-reuse``.
    """
    _install(session)
    session.run("python", "-m", "esbackend.fixtures", "--check")
    target = ("--es-target=docker", f"--es-version={ES_VERSIONS[major]}")
    session.run(
        "pytest", "-W", "error", "--strict-markers", "tests/contract", *target, *session.posargs
    )
    session.run(
        "pytest",
        "-W",
        "error",
        "--strict-markers",
        "tests/conformance",
        "-q",
        *target,
        *session.posargs,
    )


@nox.session(default=False)
def conformance(session: nox.Session) -> None:
    """Elastic's YAML REST tests on a chosen target: ``nox -s conformance -- --es-target=...``."""
    _install(session)
    session.run("pytest", "-W", "error", "--strict-markers", "tests/conformance", *session.posargs)


@nox.session(default=False)
def docker_cleanup(session: nox.Session) -> None:
    """Remove containers and networks esbackend left behind (``-- --all``: reused ones too)."""
    _install(session)
    session.run("python", "-m", "esbackend.fixtures", *session.posargs)
