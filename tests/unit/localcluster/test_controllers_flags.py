"""``LocalControlPlane(controllers=True)``: the flags that make a plane a kubelet can join."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleanslate.localcluster import pki
from cleanslate.localcluster.__main__ import _parse
from cleanslate.localcluster.plane import (
    apiserver_flags,
    controller_manager_flags,
    scheduler_flags,
)

DISABLE_SA = "--disable-admission-plugins=ServiceAccount"


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> pki.Pki:
    return pki.generate(tmp_path_factory.mktemp("pki"))


def flags(credentials: pki.Pki, *, service_accounts: bool) -> list[str]:
    return apiserver_flags(
        workdir=Path("/w"),
        credentials=credentials,
        etcd_url="http://127.0.0.1:2379",
        port=6443,
        service_accounts=service_accounts,
    )


def test_api_only_plane_keeps_service_account_admission_off(credentials: pki.Pki) -> None:
    assert DISABLE_SA in flags(credentials, service_accounts=False)


def test_controllers_plane_turns_service_account_admission_on(credentials: pki.Pki) -> None:
    on = flags(credentials, service_accounts=True)
    assert not [f for f in on if f.startswith("--disable-admission-plugins")]
    assert "--service-account-issuer=https://127.0.0.1:6443" in on
    assert f"--service-account-signing-key-file={credentials.sa_key_path}" in on
    assert f"--service-account-key-file={credentials.sa_pub_path}" in on
    # kubectl exec/logs: the kubelet authenticates the API server by its client certificate
    assert f"--kubelet-client-certificate={credentials.admin.cert_path}" in on
    assert not [f for f in flags(credentials, service_accounts=False) if "kubelet" in f]


def test_controller_manager_publishes_the_plane_ca_and_serves_nothing(
    credentials: pki.Pki,
) -> None:
    manager = controller_manager_flags(Path("/w/admin.kubeconfig"), credentials)
    assert "--kubeconfig=/w/admin.kubeconfig" in manager
    assert f"--root-ca-file={credentials.ca.cert_path}" in manager
    assert f"--service-account-private-key-file={credentials.sa_key_path}" in manager
    assert {"--secure-port=0", "--leader-elect=false"} <= set(manager)


def test_scheduler_serves_nothing_and_elects_no_leader() -> None:
    assert scheduler_flags(Path("/k")) == [
        "--kubeconfig=/k",
        "--leader-elect=false",
        "--secure-port=0",
    ]


def test_the_command_line_flag_asks_for_the_controllers() -> None:
    assert _parse(["--controllers"]).controllers is True
    assert _parse([]).controllers is False
