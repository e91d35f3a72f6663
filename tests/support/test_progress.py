"""Progress lines: at the start, at most one per interval, and at the end."""

from scaling_search.support.progress import count_lines


def test_count_lines_are_throttled_and_always_show_start_and_end():
    lines: list[str] = []
    show = count_lines(lines.append, "decoding imagefolder:/data/set", "images", every_s=3600)
    for done in range(0, 13000, 64):
        show(done, 13000)
    show(13000, 13000)
    assert lines == ["decoding imagefolder:/data/set: 0/13,000 images (0%)",
                     "decoding imagefolder:/data/set: 13,000/13,000 images (100%)"]


def test_count_lines_show_each_step_when_the_interval_is_zero():
    lines: list[str] = []
    show = count_lines(lines.append, "measuring candidates", "networks", every_s=0)
    for done in range(4):
        show(done, 3)
    assert lines[1:3] == ["measuring candidates: 1/3 networks (33%)", "measuring candidates: 2/3 networks (67%)"]


def test_count_lines_stay_quiet_for_quick_work():
    lines: list[str] = []
    show = count_lines(lines.append, "pre-filtering the grid", "points", quiet_s=3600)
    show(0, 10)
    show(10, 10)
    assert lines == []
