"""What start-up made stays out of the garbage collector's full collections."""

from __future__ import annotations

import gc

from app import keep_start_up_out_of_collections


def test_objects_made_at_start_up_are_no_longer_walked_by_full_collections() -> None:
    wiring = [{"made": "at start-up"}]  # tracked by the collector, as the bot's wiring is
    assert any(found is wiring for found in gc.get_objects())
    keep_start_up_out_of_collections()
    try:
        assert gc.get_freeze_count() > 0
        assert not any(found is wiring for found in gc.get_objects())
        later = [{"made": "while running"}]
        assert any(found is later for found in gc.get_objects())  # later objects are
    finally:
        gc.unfreeze()  # the rest of the test run collects as before
