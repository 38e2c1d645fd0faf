"""Files that hold signers' personal data are readable by this user only: 0600 files in 0700
folders, wherever the settings put them. That is the SQLite database (SQLite gives its -wal and
-shm files the database's own mode), email written to files (confirmation links and addresses),
and the private media: presentation documents and exports (petitions.models.PrivateStorage).
Folders and files of ours made before this rule are tightened when next used."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from django.conf import settings
from django.core.mail.backends import filebased

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path, root: Path | None = None) -> Path:
    """Make the folder `path` (with its parents) and set it, and the folders between `root`
    and it (`root` included), to 0700."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    folders = [path]
    if root is not None:
        root = Path(root)
        folders += [parent for parent in path.parents if parent == root or root in parent.parents]
    for folder in folders:
        _set_mode(folder, FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make `path` an existing 0600 file (empty if new; its folder must exist), for a writer
    that opens it by name afterwards: opening an existing file keeps its mode."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    return path


def tighten(path: Path) -> None:
    """Set an existing file of ours to 0600 (one made before this rule); nothing if absent."""
    try:
        _set_mode(path, FILE_MODE)
    except FileNotFoundError:
        pass


def _set_mode(path: Path, mode: int) -> None:
    """chmod, for what this user owns: another owner's folder is theirs to set."""
    status = os.stat(path)
    if stat.S_IMODE(status.st_mode) != mode and status.st_uid == os.geteuid():
        os.chmod(path, mode)


class FileEmailBackend(filebased.EmailBackend):
    """Django's file backend (the embedded default's outbox, var/mail/), writing private files."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        private_folder(Path(self.file_path), root=settings.VAR_DIR)

    def open(self) -> bool:
        if self.stream is None:
            name = self._get_filename()
            descriptor = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
            self.stream = os.fdopen(descriptor, "ab")
            return True
        return False
