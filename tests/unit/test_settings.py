"""Settings parsed once, a bad one named: PARLEY_REDIS_CLUSTER_NODES, the Kafka security settings,
the edge's CORS origins."""

from __future__ import annotations

import json

import pytest

from stack.envoy import api_cors
from runtime.settings import (EdgeTls, Endpoint, KafkaSecurity, cluster_nodes, edge_tls,
                              kafka_security, load)


def test_cluster_nodes_are_host_port_pairs_and_empty_means_no_cluster() -> None:
    assert cluster_nodes("") == ()
    assert cluster_nodes("10.0.0.5:7000, redis-2:7001,[fd00::5]:7002,") == (
        ("10.0.0.5", 7000), ("redis-2", 7001), ("fd00::5", 7002))


@pytest.mark.parametrize("bad", ["redis-1", ":7000", "redis-1:", "redis-1:x", "redis-1:70000"])
def test_a_node_that_is_not_host_port_is_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match=f"PARLEY_REDIS_CLUSTER_NODES: '{bad}'"):
        load({"PARLEY_REDIS_CLUSTER_NODES": f"127.0.0.1:7000,{bad}"})


def test_kafka_security_defaults_to_plaintext_and_takes_sasl_with_its_credentials() -> None:
    assert kafka_security({}) == KafkaSecurity()
    found = kafka_security({"PARLEY_KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
                            "PARLEY_KAFKA_SASL_MECHANISM": "scram-sha-256",
                            "PARLEY_KAFKA_SASL_USERNAME": "parley",
                            "PARLEY_KAFKA_SASL_PASSWORD": "s3cret"})
    assert (found.protocol, found.sasl_mechanism, found.sasl, found.tls) == (
        "SASL_SSL", "SCRAM-SHA-256", True, True)
    assert "s3cret" not in repr(found)  # settings get logged; the password never is


@pytest.mark.parametrize("env, named", [
    ({"PARLEY_KAFKA_SECURITY_PROTOCOL": "TLS"}, "PARLEY_KAFKA_SECURITY_PROTOCOL"),
    ({"PARLEY_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "PARLEY_KAFKA_SASL_MECHANISM": "GSSAPI",
      "PARLEY_KAFKA_SASL_USERNAME": "u", "PARLEY_KAFKA_SASL_PASSWORD": "p"},
     "PARLEY_KAFKA_SASL_MECHANISM"),
    ({"PARLEY_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "PARLEY_KAFKA_SASL_USERNAME": "u"},
     "PARLEY_KAFKA_SASL_PASSWORD"),
    ({"PARLEY_KAFKA_SECURITY_PROTOCOL": "SSL", "PARLEY_KAFKA_SSL_CA_FILE": "/no/such/ca.pem"},
     "PARLEY_KAFKA_SSL_CA_FILE"),
])
def test_bad_kafka_security_is_refused_naming_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        kafka_security(env)


def test_a_service_is_found_at_its_upstream_setting_else_at_this_machines_address(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_BIND_HOST", "127.0.0.2")
    monkeypatch.setenv("PARLEY_GRPC_BASE_PORT", "20061")
    monkeypatch.setenv("PARLEY_UPSTREAM_STORE", "10.0.0.5:20062, store.parley.svc:20062")
    monkeypatch.setenv("PARLEY_UPSTREAM_PROJECTOR_2", "[fd00::7]:20067")
    settings = load()
    assert settings.service_endpoints("store") == (Endpoint("10.0.0.5", 20062),
                                                   Endpoint("store.parley.svc", 20062))
    assert [e.named for e in settings.service_endpoints("store")] == [False, True]
    assert settings.service_endpoints("projector-2")[0].target() == "[fd00::7]:20067"
    # Not listed: this machine's process, where it is advertised (the bind address by default).
    assert settings.service_endpoints("ingest") == (Endpoint("127.0.0.2", 20061),)
    assert settings.service_target("ingest") == "127.0.0.2:20061"


def test_an_upstream_that_is_not_host_port_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_UPSTREAM_GATEWAY", "gateway.parley.svc")
    with pytest.raises(ValueError, match="PARLEY_UPSTREAM_GATEWAY"):
        load()


def test_tls_at_the_edge_takes_a_certificate_and_its_key_together() -> None:
    assert edge_tls({}) is None
    assert edge_tls({"PARLEY_HTTP_TLS_CERT": "/c.pem", "PARLEY_HTTP_TLS_KEY": "/k.pem"}) == (
        EdgeTls("/c.pem", "/k.pem"))
    with pytest.raises(ValueError, match="TLS at the edge needs all of PARLEY_HTTP_TLS_CERT"):
        edge_tls({"PARLEY_HTTP_TLS_CERT": "/c.pem"})


def test_settings_read_from_a_given_environment_not_the_process_one() -> None:
    found = load({"PARLEY_HTTP_HOST": "0.0.0.0", "PARLEY_ENVOY_CONCURRENCY": "4",
                  "PARLEY_INSTANCE": "store@127.0.0.2"})
    assert (found.http_host, found.envoy_concurrency, found.instance, found.http_tls) == (
        "0.0.0.0", 4, "store@127.0.0.2", None)


def test_a_batching_producers_codec_is_one_kafka_knows() -> None:
    assert load({}).kafka_compression == "" and load({}).kafka_linger_ms == 5
    assert load({"PARLEY_KAFKA_COMPRESSION": "GZIP"}).kafka_compression == "gzip"
    with pytest.raises(ValueError, match="PARLEY_KAFKA_COMPRESSION: 'brotli' is not one of"):
        load({"PARLEY_KAFKA_COMPRESSION": "brotli"})


def test_cors_origins_are_origins_or_a_lone_star() -> None:
    assert load({}).edge.cors_origins == ()
    assert load({"PARLEY_EDGE_CORS_ORIGINS": "https://inbox.example.com, http://127.0.0.1:5173"}
                ).edge.cors_origins == ("https://inbox.example.com", "http://127.0.0.1:5173")
    assert load({"PARLEY_EDGE_CORS_ORIGINS": "*"}).edge.cors_origins == ("*",)
    for bad in ("inbox.example.com", "https://inbox.example.com/app", "*,https://a.example",
                "ftp://a.example"):
        with pytest.raises(ValueError, match="PARLEY_EDGE_CORS_ORIGINS"):
            load({"PARLEY_EDGE_CORS_ORIGINS": bad})


def test_cors_allows_credentials_to_listed_origins_only_never_to_any() -> None:
    assert api_cors(()) == []
    listed = json.loads(api_cors(("https://a.example",))[0].split("cors: ", 1)[1][:-1])
    assert listed["allow_origin_string_match"] == [{"exact": "https://a.example"}]
    assert listed["allow_credentials"] is True
    anywhere = json.loads(api_cors(("*",))[0].split("cors: ", 1)[1][:-1])
    assert anywhere["allow_origin_string_match"] == [{"safe_regex": {"regex": ".*"}}]
    assert anywhere["allow_credentials"] is False
