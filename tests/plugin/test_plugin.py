"""The pytest plugin as a downstream project sees it (run in a fresh pytester session)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_downstream=source)
    return pytester.runpytest_subprocess("-W", "error", "-p", "no:cacheprovider", *args)


def test_fixtures_work_with_no_conftest(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import urllib.request, json

        def test_client(es_client, es_requests):
            es_client.index(index="t", id="1", document={"a": 1})
            assert es_client.get(index="t", id="1")["_source"] == {"a": 1}
            assert es_requests.count("get") == 1

        def test_each_test_gets_a_fresh_cluster(es_client):
            assert not es_client.indices.exists(index="t")

        def test_url_serves_the_same_cluster(es_cluster, es_url):
            es_cluster.client().index(index="t", id="1", document={}, refresh=True)
            with urllib.request.urlopen(es_url + "/t/_count") as resp:
                assert json.load(resp)["count"] == 1

        def test_faults(es_client, es_faults):
            es_faults.inject(503, api="info")
            import elasticsearch, pytest
            with pytest.raises(elasticsearch.ApiError):
                es_client.options(max_retries=0).info()

        def test_backend(es_backend):
            es_backend.store_result("t1", 42, "SUCCESS")
            assert es_backend.get_task_meta("t1")["result"] == 42

        def test_patch(es_patch):
            from elasticsearch import Elasticsearch
            Elasticsearch("http://db.invalid:9200").index(index="p", id="1", document={})
            assert es_patch.client().exists(index="p", id="1")
    """,
    )
    result.assert_outcomes(passed=6)


def test_the_emulator_target(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_over_http(es_client, es_target, es_requests):
            assert es_target.kind == "emulator"
            assert es_target.url.startswith("http://127.0.0.1:")
            es_client.index(index="t", id="1", document={})
            assert es_requests.count("index") == 1
    """,
        "--es-target=emulator",
    )
    result.assert_outcomes(passed=1)


def test_a_bad_target_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = run(pytester, "def test_x(es_client): pass", "--es-target=mars")
    assert "--es-target='mars': use one of fake, emulator, docker" in result.stderr.str()
    assert result.ret != 0


def test_version_is_overridable(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import pytest

        @pytest.fixture(scope="session")
        def es_version():
            return "8.17.0"
    """)
    result = run(
        pytester,
        """
        def test_v(es_cluster):
            assert es_cluster.version == "8.17.0"
    """,
    )
    result.assert_outcomes(passed=1)


def test_plugin_options_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--es-target=TARGET*", "*--es-version=X.Y.Z*", "*--es-reuse*"])


def test_a_running_cluster_by_url(pytester: pytest.Pytester) -> None:
    """``--es-target=URL``: unique index names, faults in front of the cluster, cleanup after."""
    from esbackend.fakes import FakeCluster, serve

    cluster = FakeCluster()
    pytester.makepyfile(
        test_remote="""
        import elasticsearch, pytest

        def test_remote(es_client, es_index, es_faults, es_requests, es_target):
            assert es_target.kind == "remote"
            assert es_index.startswith("esbackend-test-")
            es_client.index(index=es_index, id="1", document={"a": 1})
            es_faults.inject(503, api="get", times=1)
            assert es_client.get(index=es_index, id="1")["found"]
            assert es_requests.count("get") == 2

        def test_backend(es_backend, es_index):
            es_backend.store_result("t", 1, "SUCCESS")
            assert es_backend.index == es_index
    """
    )
    with serve(cluster) as url:
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", f"--es-target={url}")
    result.assert_outcomes(passed=2)
    # Every test's index was deleted afterwards; only what reached the cluster is logged there.
    assert cluster.engine.indices == {}
    assert cluster.requests.count("get") == 1  # the injected 503 never reached the cluster


def test_composes_with_celery_contrib_pytest(pytester: pytest.Pytester) -> None:
    """Celery's own fixtures (celery_app, celery_worker) next to ours, with no clash."""
    result = run(
        pytester,
        """
        import pytest

        pytest_plugins = ["celery.contrib.pytest"]

        @pytest.fixture
        def celery_config(es_celery_config):
            return {"broker_url": "memory://",
                    "broker_transport_options": {"polling_interval": 0.01}, **es_celery_config}

        @pytest.fixture
        def celery_worker_parameters():
            return {"perform_ping_check": False}

        def test_celery_fixtures_store_in_the_fake(celery_app, celery_worker, es_requests):
            @celery_app.task(name="double", shared=False)
            def double(x):
                return 2 * x

            celery_worker.reload()
            assert double.delay(21).get(timeout=30, interval=0.01) == 42
            assert es_requests.count("index") >= 1

        def test_ours_alone(es_celery_app, es_celery_worker):
            @es_celery_app.task(name="triple", shared=False)
            def triple(x):
                return 3 * x

            es_celery_worker.reload()
            assert triple.delay(2).get(timeout=30, interval=0.01) == 6
    """,
    )
    result.assert_outcomes(passed=2)
