"""Which file system holds a directory decides how many threads copy small files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.data.mounts import filesystem_type, on_network

# Shaped like /proc/self/mountinfo: optional fields before the "-", escaped spaces.
MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
30 27 0:40 / /mnt/data rw,relatime shared:7 master:3 - nfs4 srv:/export rw,vers=4.2
31 27 0:41 / /mnt/my\\040share rw - cifs //nas/share rw
32 27 0:42 / /mnt/box rw - fuse.sshfs user@gpu:/data rw
33 30 254:1 / /mnt/data/scratch rw - xfs /dev/vdb rw
not a mountinfo line - at all
"""


@pytest.mark.parametrize(
    ("path", "kind", "network"),
    [
        ("/home/me/project/.dvc/cache", "ext4", False),
        ("/mnt/data", "nfs4", True),
        ("/mnt/data/remote/files/md5", "nfs4", True),
        ("/mnt/database", "ext4", False),  # a sibling, not inside /mnt/data
        ("/mnt/data/scratch/cache", "xfs", False),  # the longest mount point wins
        ("/mnt/my share/remote", "cifs", True),
        ("/mnt/box/remote", "fuse.sshfs", True),
    ],
)
def test_the_mount_holding_a_path_gives_its_type(path: str, kind: str, network: bool) -> None:
    assert filesystem_type(Path(path), MOUNTINFO) == kind
    assert on_network(Path(path), MOUNTINFO) is network


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/mountinfo")
def test_this_machines_temporary_folder_has_a_type(tmp_path: Path) -> None:
    assert filesystem_type(tmp_path)  # whatever it is, the kernel says what
    assert filesystem_type(tmp_path / "not-yet" / "made") == filesystem_type(tmp_path)
