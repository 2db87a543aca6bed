"""DVC's S3 options, as dvc-s3 reads them, and which client serves a remote."""

from __future__ import annotations

import base64
import ssl

import pytest

from core.data.s3 import FAST_OPTIONS, fast_path_refusal, s3fs_arguments
from core.errors import ConfigError
from core.project.config import DvcRemote

KEYED = {"access_key_id": "AKIA", "secret_access_key": "s", "region": "eu-west-1"}
NO_AWS_FILES = {"AWS_CONFIG_FILE": "/nonexistent/aws/config"}  # whatever ~/.aws holds


def remote(**options: str) -> DvcRemote:
    url = options.pop("url", "s3://bucket/cache")
    return DvcRemote("storage", url, {"url": url, **options})


def test_a_remote_with_stated_keys_and_region_takes_the_fast_path() -> None:
    assert fast_path_refusal(remote(**KEYED), {}) is None
    with_endpoint = remote(access_key_id="a", secret_access_key="b", endpointurl="http://h")
    assert fast_path_refusal(with_endpoint, NO_AWS_FILES) is None  # us-east-1 for both
    encrypted = remote(**KEYED, sse="aws:kms", sse_kms_key_id="k", ssl_verify="false")
    assert fast_path_refusal(encrypted, {}) is None
    environment = {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
    environment |= {"AWS_SESSION_TOKEN": "t", "AWS_DEFAULT_REGION": "r", "AWS_REGION": "r"}
    assert fast_path_refusal(remote(), environment) is None
    assert fast_path_refusal(remote(allow_anonymous_login="True", region="r"), {}) is None
    # A bundle that is the system's own narrows nothing; over plain HTTP none is used.
    system = ssl.get_default_verify_paths().openssl_cafile
    assert fast_path_refusal(remote(**KEYED), {"AWS_CA_BUNDLE": system}) is None
    local = remote(**KEYED, endpointurl="http://127.0.0.1:9000")
    assert fast_path_refusal(local, {"AWS_CA_BUNDLE": "/private-ca.pem"}) is None


@pytest.mark.parametrize(
    "option",
    [
        "profile",
        "credentialpath",
        "configpath",
        "acl",
        "grant_read",
        "grant_read_acp",
        "grant_write_acp",
        "grant_full_control",
        "sse_customer_key",
        "sse_customer_algorithm",
        "use_ssl",
    ],
)
def test_options_obstore_cannot_honour_send_the_remote_to_s3fs(option: str) -> None:
    assert option not in FAST_OPTIONS
    assert fast_path_refusal(remote(**KEYED, **{option: "x"}), {}) == f"option {option}"


@pytest.mark.parametrize(
    ("options", "environment", "reason"),
    [
        ({**KEYED, "ssl_verify": "/etc/ca.pem"}, {}, "ssl_verify names a CA bundle"),
        ({"region": "r"}, {}, "credentials come from botocore's chain"),
        ({"access_key_id": "a", "secret_access_key": "b"}, {}, "region is not stated"),
        (
            {"access_key_id": "a", "secret_access_key": "b", "endpointurl": "http://h"},
            {"AWS_CONFIG_FILE": __file__},  # any file that exists
            "the region may come from",
        ),
        (KEYED, {"AWS_PROFILE": "team"}, "AWS_PROFILE is set"),
        ({**KEYED, "url": "s3://my.bucket/cache"}, {}, "a bucket name with dots"),
        (KEYED, {"AWS_ENDPOINT": "http://elsewhere"}, "AWS_ENDPOINT is set"),  # obstore's
        (KEYED, {"AWS_SERVER_SIDE_ENCRYPTION": "aws:kms"}, "AWS_SERVER_SIDE_ENCRYPTION"),
        (KEYED, {"AWS_SESSION_TOKEN": "t"}, "would be sent with the remote's own keys"),
        (
            {"access_key_id": "a", "secret_access_key": "b"},
            {"AWS_REGION": "eu-west-1"},
            "botocore reads AWS_DEFAULT_REGION only",
        ),
        (KEYED, {"AWS_CA_BUNDLE": "/ca.pem"}, "AWS_CA_BUNDLE names a CA bundle"),
        (KEYED, {"HTTPS_PROXY": "http://proxy:3128"}, "HTTPS_PROXY is set"),
        (KEYED, {"EXPTUI_S3_CLIENT": "s3fs"}, "EXPTUI_S3_CLIENT=s3fs"),
    ],
)
def test_what_only_botocore_would_find_sends_the_remote_to_s3fs(
    options: dict[str, str], environment: dict[str, str], reason: str
) -> None:
    refusal = fast_path_refusal(remote(**options), environment)
    assert refusal is not None and reason in refusal


def test_s3fs_gets_every_option_as_dvc_s3_passes_it() -> None:
    customer_key = bytes(range(32))
    arguments = s3fs_arguments(
        remote(
            **KEYED,
            session_token="t",
            profile="team",
            endpointurl="https://minio:9000",
            ssl_verify="/etc/ca.pem",
            use_ssl="false",
            read_timeout="5",
            connect_timeout="2",
            sse_customer_key=base64.b64encode(customer_key).decode(),
            grant_read="id=abc",
            grant_full_control="id=def",
        ),
        jobs=40,
    )
    assert arguments["key"] == "AKIA" and arguments["secret"] == "s"
    assert arguments["token"] == "t" and arguments["profile"] == "team"
    assert arguments["client_kwargs"] == {
        "verify": "/etc/ca.pem",  # a CA bundle path stays a path
        "endpoint_url": "https://minio:9000",
        "region_name": "eu-west-1",
    }
    assert arguments["use_ssl"] is False
    config = arguments["config_kwargs"]
    assert (config["read_timeout"], config["connect_timeout"]) == (5.0, 2.0)
    assert config["max_pool_connections"] >= 40
    assert arguments["s3_additional_kwargs"] == {
        "SSECustomerKey": customer_key,  # decoded, as DVC hands it to botocore
        "SSECustomerAlgorithm": "AES256",
        "GrantRead": "id=abc",
        "GrantFullControl": "id=def",
    }
    assert "cache_regions" not in arguments  # a stated region needs no discovery


def test_sse_acl_anonymous_and_region_discovery() -> None:
    arguments = s3fs_arguments(
        remote(sse="aws:kms", sse_kms_key_id="key-1", acl="bucket-owner-full-control"), 32
    )
    assert arguments["s3_additional_kwargs"] == {
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "key-1",
        "ACL": "bucket-owner-full-control",
    }
    assert arguments["cache_regions"] is True  # as DVC: the bucket's region is looked up
    assert arguments["use_ssl"] is True and arguments["client_kwargs"]["verify"] is True
    assert s3fs_arguments(remote(ssl_verify="FALSE"), 32)["client_kwargs"]["verify"] is False
    assert s3fs_arguments(remote(allow_anonymous_login="true"), 32)["anon"] is True
    assert "anon" not in s3fs_arguments(remote(allow_anonymous_login="false"), 32)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"acl": "private", "grant_read": "id=x"}, "acl and grant_read"),
        (
            {"sse_kms_key_id": "k", "sse_customer_key": "AAAA"},
            "sse_kms_key_id and sse_customer_key",
        ),
        ({"sse_customer_key": "not base64!"}, "not base64"),
    ],
)
def test_options_dvc_refuses_together_are_refused_in_one_line(
    options: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        s3fs_arguments(remote(**options), 32)
    assert named in raised.value.message and "\n" not in raised.value.message
