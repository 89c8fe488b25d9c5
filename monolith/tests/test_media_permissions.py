"""Uploads stay readable by nginx, which serves /media/ as a user of its own."""

import os
import stat
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def test_an_upload_is_readable_by_other_users_whatever_the_umask(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    previous = os.umask(0o077)  # a strict operator's umask: would make 0600 files, 0700 folders
    try:
        name = default_storage.save("products/originals/new/mug.png", ContentFile(b"\x89PNG"))
    finally:
        os.umask(previous)
    path = Path(default_storage.path(name))
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    for folder in (path.parent, path.parent.parent, path.parent.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755, folder
