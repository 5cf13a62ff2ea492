"""Fuzzing the loader with CSV bytes: quotes, line breaks, bytes that are not text, time zones, hostile text.

Whatever the bytes, only the kit's own errors (:class:`~pmo_maturity.PmoMaturityError`) may escape,
and every row read is accounted for: ``rows_in == rows_accepted + rows_quarantined``, the quarantine
and the accepted rows never share a row, and every warning points at one of the file's rows.
"""

from __future__ import annotations

import codecs
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmo_maturity import PmoMaturityError, load_questionnaire, load_responses

Q = load_questionnaire()
HEADERS = [
    ["ID", "Business unit", "Completion time", "INS1", "INS2", "VIS1", "Comment"],
    ["Respondent ID", "Department", "Start time", "Completion time", "INS1", "INS3", "ACT2", "Role"],
    [i.id for i in Q.items[:6]],
]
CELLS = st.one_of(
    st.sampled_from([b"", b"1", b"5", b"3", b"Agree", b"Don't know", b"7", b"3.5", b"3,0", b"0_3", b"nan", b"inf",
                     b"TRUE", b"-1", b"6", b"Finance", b"Team member"]),
    st.sampled_from([b'"', b'"quoted, with a comma"', b'"a\nb"', b'"a\r\nb, c"', b'x"y', b'""', b'"=1+1"',
                     b'"unclosed', b'closed"']),
    st.sampled_from([b"\xff", b"\xe9t\xe9", "Zürich".encode(), "Zürich".encode("cp1252"), b"\x81\x8d", b"\x00",
                     b"\r", b"\n", b"\r\n", b"\t", b"\xef\xbb\xbf"]),
    st.sampled_from([b"2026-10-05T10:00:00+02:00", b"2026-10-05T10:00:00-05:00", b"2026/10/05 9:00:00 AM GMT+1",
                     b"2026-10-05 10:00 UTC-03:30", b"2026-13-45 99:99", b"10/05/2026 02:30:00 PM", b"yesterday",
                     b"99999-01-01", b"2026-10-05 10:00 CEST"]),
    st.sampled_from(["=HYPERLINK(\"http://x\")", "<script>x</script>", "@cmd", "فريق 🚀", "\u2028", "'; DROP"])
    .map(str.encode),
    st.binary(max_size=5),
)
ROW = st.lists(CELLS, min_size=0, max_size=9)


@st.composite
def csv_files(draw) -> bytes:
    header = draw(st.sampled_from(HEADERS))
    delimiter = draw(st.sampled_from([b",", b";", b"\t"]))
    newline = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    rows = draw(st.lists(ROW, min_size=0, max_size=12))
    prefix = draw(st.sampled_from([b"", codecs.BOM_UTF8, b"sep=,\n"]))
    lines = [delimiter.join(h.encode() for h in header)] + [delimiter.join(r) for r in rows]
    return prefix + newline.join(lines) + draw(st.sampled_from([newline, b""]))


FOLDER = Path(tempfile.mkdtemp(prefix="pmo-fuzz-"))


def test_any_csv_bytes_load_with_every_row_accounted_for_or_fail_cleanly():
    seen = Counter()

    @settings(max_examples=120, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(csv_files(), st.sampled_from([None, "utf-8", "cp1252"]))
    def check(data, encoding):
        path = FOLDER / "fuzz.csv"
        path.write_bytes(data)
        try:
            r = load_responses(path, Q, encoding=encoding, min_answered=0.2)
        except PmoMaturityError:
            seen["refused"] += 1  # the kit's own error: a clear message, no traceback
            return
        s = r.summary
        assert s["rows_in"] == s["rows_accepted"] + s["rows_quarantined"]
        quarantined, accepted = set(r.quarantine["row"]), set(r.data["row"])
        assert quarantined.isdisjoint(accepted) and len(quarantined) == s["rows_quarantined"]
        assert len(accepted) == s["rows_accepted"]
        assert set(r.warnings["row"]) <= quarantined | accepted
        assert min(quarantined | accepted, default=2) >= 2
        seen["loaded"] += 1
        seen.update(s["quarantined_by_reason"])
        seen.update(s["warnings"])

    check()
    # The bytes reached every path: files loaded and refused, stray quotes, other encodings, bad times.
    assert seen["loaded"] >= 60 and seen["refused"] >= 1, seen
    assert seen["malformed_row"] and seen["unknown_label"] and seen["out_of_range"], seen
    assert seen["mixed_encoding"] + seen["invalid_bytes"] and seen["unreadable_time"], seen
