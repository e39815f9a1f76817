"""Per-case JSON is written field by field (no encoder walk per case); it must be exactly
what encoding the reference dict gives, for every kind of case (hostile text included)."""

from __future__ import annotations

import json
from datetime import timedelta

from generator.site import exports
from tests.test_feeds import NOW, sample_views


def test_case_json_is_the_reference_encoding() -> None:
    views = sample_views()
    assert len(views) > 5
    for view in views:
        fast = exports.case_json(view)
        assert fast == exports.compact(exports.case_detail(view)), view.id
        assert json.loads(fast) == exports.case_detail(view)


def test_case_json_does_not_depend_on_now() -> None:
    earlier = {v.id: exports.case_json(v) for v in sample_views(NOW)}
    later = {v.id: exports.case_json(v) for v in sample_views(NOW + timedelta(days=40))}
    assert earlier == later
