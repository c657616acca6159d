"""The cyclic GC policy of a scan (keyless.linter.engine.scan_gc_policy, gc_between_files)."""

from __future__ import annotations

import gc
import weakref

from keyless.linter import engine


class _Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the cyclic GC frees it


def test_policy_is_restored_and_a_nested_scan_keeps_the_outer_one():
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    with engine.scan_gc_policy():
        assert gc.get_threshold()[0] == engine.SCAN_GC_THRESHOLD
        frozen = gc.get_freeze_count()
        assert frozen > frozen_before  # what was imported is not rescanned
        with engine.scan_gc_policy():  # a facts-only pass inside a scan
            pass
        assert gc.get_threshold()[0] == engine.SCAN_GC_THRESHOLD
        assert gc.get_freeze_count() == frozen
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before


def test_cycles_are_collected_between_files():
    with engine.scan_gc_policy():
        gc.collect(0)
        garbage = [_Node() for _ in range(engine.BOUNDARY_GC_MIN)]
        probe = weakref.ref(garbage[0])
        del garbage
        assert probe() is not None  # reference counting alone never frees a cycle
        engine.gc_between_files()
        assert probe() is None


def test_between_files_does_nothing_outside_a_scan():
    gc.collect(0)
    garbage = [_Node() for _ in range(engine.BOUNDARY_GC_MIN)]
    probe = weakref.ref(garbage[0])
    del garbage
    gc.disable()
    try:
        engine.gc_between_files()
        assert probe() is not None
    finally:
        gc.enable()
        gc.collect()


def test_what_survives_a_file_boundary_is_frozen_until_the_scan_ends():
    with engine.scan_gc_policy():
        gc.collect(0)
        kept = [_Node() for _ in range(engine.BOUNDARY_GC_MIN)]
        frozen = gc.get_freeze_count()
        engine.gc_between_files()
        assert gc.get_freeze_count() >= frozen + len(kept)  # later collections do not traverse them
        probe = weakref.ref(kept[0])
        del kept
        gc.collect(0)
        assert probe() is not None  # a cycle that died after its boundary waits for the scan's end
    gc.collect()
    assert probe() is None  # never leaked: unfrozen with the policy


def test_project_rules_run_under_the_scan_policy(tmp_path, monkeypatch):
    from keyless.linter.config import Config

    (tmp_path / "app.py").write_text("x = 1\n")
    depths = []
    real_finish = engine.finish

    def finish(*args, **kwargs):
        depths.append(engine._GC_POLICY_DEPTH)
        return real_finish(*args, **kwargs)

    monkeypatch.setattr(engine, "finish", finish)
    settings = engine.Settings(root=str(tmp_path), select=engine.resolve_selection(engine.load_registry(), None))
    engine.lint_paths([str(tmp_path)], Config(), settings, excludes=[], jobs=1)
    assert depths == [1]
    assert engine._GC_POLICY_DEPTH == 0
