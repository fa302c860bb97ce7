"""Saving to a path is atomic and safe under concurrency (issue 19, defect 4).

Threads and processes saving to one path at once all succeed, and the path always
holds one complete file (a reader running alongside never sees a partial one);
no temporary file is left behind; a save keeps the target's permission bits,
writes through a symlink, calls ``fsync`` on the file and on its folder; and a
save that fails leaves the old file as it was.
"""

from __future__ import annotations

import io
import os
import re
import stat
import subprocess
import sys
import threading

import pytest
from fault_support import docs_page

import plugrad

THREADS, SAVES_PER_THREAD = 4, 100
PROCESSES, SAVES_PER_PROCESS = 4, 40


def payload(i: int) -> dict:
    return {"step": i, "w": plugrad.full((64, 16), float(i)), "b": plugrad.arange(16) + i}


def check(obj) -> int:
    """The step a loaded file holds, after checking that it is a complete, consistent save."""
    i = obj["step"]
    assert obj["w"].shape == (64, 16) and bool((obj["w"] == float(i)).all())
    assert obj["b"].tolist() == [i + k for k in range(16)]
    return i


@pytest.mark.parametrize("fmt", ["plugrad", "torch"])
def test_threads_saving_to_one_path_all_succeed_and_readers_see_complete_files(tmp_path, fmt):
    path = tmp_path / "ckpt.pt"
    plugrad.save(payload(-1), path, format=fmt)
    errors, seen, done = [], set(), threading.Event()

    def saver(t):
        try:
            for k in range(SAVES_PER_THREAD):
                plugrad.save(payload(t * SAVES_PER_THREAD + k), path, format=fmt)
        except BaseException as exc:      # noqa: BLE001 - every failure is reported
            errors.append(exc)

    def reader():
        while not done.is_set():
            try:
                seen.add(check(plugrad.load(path)))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                return

    threads = [threading.Thread(target=saver, args=(t,)) for t in range(THREADS)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    watcher.join()
    assert errors == []
    assert check(plugrad.load(path)) in {t * SAVES_PER_THREAD + SAVES_PER_THREAD - 1 for t in range(THREADS)}
    assert len(seen) > 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]      # no temporary file left


SAVER = """
import sys
import plugrad
path, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(first, first + n):
    plugrad.save({"step": i, "w": plugrad.full((64, 16), float(i)), "b": plugrad.arange(16) + i}, path,
                 format=("plugrad", "torch")[i % 2])
"""


def test_processes_saving_to_one_path_all_succeed(tmp_path):
    """Each process alternates plugrad's format and PyTorch's."""
    path = tmp_path / "ckpt.pt"
    procs = [subprocess.Popen([sys.executable, "-c", SAVER, str(path), str(p * 1000), str(SAVES_PER_PROCESS)],
                              stderr=subprocess.PIPE) for p in range(PROCESSES)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    assert check(plugrad.load(path)) in {p * 1000 + SAVES_PER_PROCESS - 1 for p in range(PROCESSES)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


def test_a_save_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "secret.pt"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    plugrad.save(payload(1), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o640)
    plugrad.save(payload(2), path, format="torch")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640 and check(plugrad.load(path)) == 2


def test_a_new_file_gets_the_mode_open_would_give(tmp_path):
    reference = tmp_path / "reference"
    with open(reference, "wb"):
        pass
    plugrad.save(payload(0), tmp_path / "new.pt")
    assert stat.S_IMODE(os.stat(tmp_path / "new.pt").st_mode) == stat.S_IMODE(os.stat(reference).st_mode)


def test_a_save_writes_through_a_symlink(tmp_path):
    real = tmp_path / "store" / "model.pt"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "latest.pt"
    link.symlink_to(real)
    plugrad.save(payload(3), link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert check(plugrad.load(real)) == 3
    assert sorted(p.name for p in real.parent.iterdir()) == ["model.pt"]


def test_a_save_fsyncs_the_file_and_its_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    plugrad.save(payload(4), tmp_path / "a.pt")
    assert synced == [False, True]


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "keep.pt"
    plugrad.save(payload(5), path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        plugrad.save({"w": plugrad.ones(2), "bad": object()}, path)

    def broken_replace(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        plugrad.save(payload(6), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.pt"]


def test_a_file_object_gets_the_bytes_as_they_are(tmp_path):
    buf = io.BytesIO()
    plugrad.save(payload(7), buf)
    with open(tmp_path / "f.pt", "wb") as f:
        plugrad.save(payload(7), f)
    assert (tmp_path / "f.pt").read_bytes() == buf.getvalue()


def test_the_figures_are_quoted_in_the_docs():
    page = docs_page()
    m = re.search(r"(\d+) saves from (\d+) threads", page)
    assert m and (int(m.group(1)), int(m.group(2))) == (THREADS * SAVES_PER_THREAD, THREADS)
    m = re.search(r"(\d+) saves from (\d+) processes", page)
    assert m and (int(m.group(1)), int(m.group(2))) == (PROCESSES * SAVES_PER_PROCESS, PROCESSES)
