"""Loading responses: every layout and format, quarantine reasons, and nothing silently lost."""

from __future__ import annotations

import codecs

import numpy as np
import pandas as pd
import pytest

from pmo_maturity import ConfigurationError, ResponsesError, load_responses
from pmo_maturity.sample import LAYOUTS, export_frame, generate_sample, sample_path
from .conftest import export_of

ITEM_LAYOUTS = [layout for layout in LAYOUTS if layout != "long"]


def accounting(r):
    s = r.summary
    return s["rows_in"], s["rows_accepted"], s["rows_quarantined"]


def assert_identity(r):
    rows_in, accepted, quarantined = accounting(r)
    assert rows_in == accepted + quarantined
    rows = set(r.quarantine["row"])
    assert len(rows) == quarantined
    if "input_rows" not in r.data.columns:
        assert rows.isdisjoint(set(r.data["row"]))


def test_shipped_sample_is_the_generator_output(sample, tmp_path):
    regenerated = sample.write(tmp_path / "again.csv", layout="forms")
    assert regenerated.read_bytes() == sample_path().read_bytes(), (
        "the shipped sample drifted from the generator; regenerate it with "
        "pmo_maturity.sample.bundled_sample().write(sample_path())")


def test_sample_bad_rows_are_quarantined_with_their_reasons(sample, sample_responses):
    r = sample_responses
    assert_identity(r)
    expected = sample.truth.loc[sample.truth["expected_reason"] != "", ["row", "expected_reason"]]
    counted = r.quarantine_rows().set_index("row")["reason"]
    assert set(counted.index) == set(expected["row"])
    for row, reason in expected.itertuples(index=False):
        assert counted[row] == reason, f"row {row}: expected {reason}, got {counted[row]}"
    assert set(expected["expected_reason"]) >= {"out_of_range", "unknown_label", "superseded", "missing_unit",
                                                 "empty_row", "too_few_answers", "not_on_scale"}


def test_sample_flags_are_kept_and_counted(sample, sample_responses):
    flagged = sample.truth.loc[sample.truth["expected_flag"] != "", ["row", "expected_flag"]]
    got = sample_responses.flags.set_index("row")["flag"]
    for row, flag in flagged.itertuples(index=False):
        assert got.get(row) == flag
        assert row in set(sample_responses.data["row"])  # kept, not dropped


def test_exclude_flagged_moves_them_to_quarantine(sample_responses):
    r = load_responses(sample_path(), exclude_flagged=True)
    assert_identity(r)
    flagged = len(sample_responses.flags)
    assert r.summary["rows_quarantined"] == sample_responses.summary["rows_quarantined"] + flagged
    assert {"straight_lining", "speeder"} <= set(r.quarantine["reason"])


def _canonical(r):
    cols = ["respondent_id", *r.questionnaire.item_ids]
    return r.data[cols].sort_values("respondent_id").reset_index(drop=True)


@pytest.mark.parametrize("layout", ITEM_LAYOUTS)
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_every_wide_layout_and_format_gives_the_same_answers(sample, sample_responses, tmp_path, layout, suffix):
    path = sample.write(tmp_path / f"export{suffix}", layout=layout)
    r = load_responses(path)
    assert_identity(r)
    assert accounting(r) == accounting(sample_responses)
    assert r.summary["items_matched"] == 40
    pd.testing.assert_frame_equal(_canonical(r), _canonical(sample_responses))
    assert r.has_units and r.has_roles


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_long_layout(sample, tmp_path, suffix):
    path = sample.write(tmp_path / f"long{suffix}", layout="long")
    r = load_responses(path)
    assert_identity(r)
    assert r.summary["layout"] == "long"
    long = export_frame(sample, layout="long")
    assert r.summary["rows_in"] == len(long)
    # Respondents with one valid submission have identical answers in long format (with two
    # submissions, long format keeps the latest answer per item, wide the latest row).
    wide = load_responses(sample_path())
    resubmitted = set(sample.truth.loc[sample.truth["expected_reason"] == "superseded", "respondent_id"])
    ids = sorted((set(wide.data["respondent_id"]) & set(r.data["respondent_id"])) - resubmitted)
    a = wide.data.set_index("respondent_id").loc[ids, wide.questionnaire.item_ids]
    b = r.data.set_index("respondent_id").loc[ids, wide.questionnaire.item_ids]
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", "\t"),
                                                     ("utf-8", "|")])
def test_encodings_and_delimiters(tmp_path, encoding, delimiter):
    units = [("Finance", 8), ("Recherche & Développement", 7)]
    data = generate_sample(units=units, small_units=0, bad_row_share=0, seed=4)
    path = data.write(tmp_path / "export.csv", layout="forms", encoding=encoding, delimiter=delimiter)
    if encoding == "utf-8-sig":
        assert path.read_bytes().startswith(codecs.BOM_UTF8)
    r = load_responses(path)
    assert r.summary["source"]["delimiter"] == delimiter
    assert set(r.data["unit"]) == {"Finance", "Recherche & Développement"}
    assert r.summary["rows_accepted"] == 15 and r.summary["items_matched"] == 40


def test_qualtrics_three_header_rows(tmp_path, questionnaire):
    items = questionnaire.items[:3]
    header = ["ResponseId", "Q1_1", "Q1_2", "Q1_3"]
    texts = ["Response ID"] + [f"How far do you agree? - {i.text}" for i in items]
    import_ids = ['{"ImportId":"_recordId"}'] + [f'{{"ImportId":"QID1_{k}"}}' for k in (1, 2, 3)]
    rows = [["R_1", "4", "Agree", "2"], ["R_2", "5", "", "Don't know"]]
    frame = pd.DataFrame([texts, import_ids, *rows], columns=header)
    path = tmp_path / "qualtrics.csv"
    frame.to_csv(path, index=False)
    r = load_responses(path, min_answered=0.2)  # three items of one dimension only
    assert r.summary["rows_in"] == 2 and r.summary["source"]["header_rows"] == 3
    assert list(r.data["row"]) == [4, 5]
    assert r.data[items[0].id].tolist() == [4, 5] and r.data[items[1].id].tolist()[0] == 4


def test_limesurvey_codes_and_explicit_mapping(tmp_path, questionnaire):
    a, b = questionnaire.items[:2]
    frame = pd.DataFrame({"id": ["1", "2"], f"[{a.id}] {a.text}": [3, 4], "my own header": [5, 1]})
    path = tmp_path / "lime.csv"
    frame.to_csv(path, index=False)
    r = load_responses(path, mapping={"my own header": b.id}, min_answered=0.2)
    assert r.columns.items == {a.id: f"[{a.id}] {a.text}", b.id: "my own header"}
    assert r.data[b.id].tolist() == [5, 1]


def test_no_unit_and_no_id_columns(tmp_path, questionnaire):
    ids = questionnaire.item_ids[:5]
    frame = pd.DataFrame(np.array([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [3, 3, 3, 3, 3]]), columns=ids)
    path = tmp_path / "bare.csv"
    frame.to_csv(path, index=False)
    r = load_responses(path)
    assert not r.has_units and not r.has_roles
    assert r.data["respondent_id"].tolist() == ["row 2", "row 3", "row 4"]
    assert r.summary["items_missing"] == questionnaire.item_ids[5:]


def test_identifiers_keep_leading_zeros(tmp_path, questionnaire):
    frame = pd.DataFrame({"Respondent ID": ["007", "010"], questionnaire.item_ids[0]: [1, 2]})
    path = tmp_path / "ids.csv"
    frame.to_csv(path, index=False)
    assert load_responses(path, min_answered=0.2).data["respondent_id"].tolist() == ["007", "010"]


def test_blank_and_malformed_lines_keep_their_row_numbers(tmp_path, questionnaire):
    i1, i2 = questionnaire.item_ids[:2]
    text = f"id,{i1},{i2}\na,4,5\n\nb,3,3\nc,1,2,9\nd,2,2\n"
    path = tmp_path / "broken.csv"
    path.write_text(text, encoding="utf-8")
    r = load_responses(path, min_answered=0.2)
    assert_identity(r)
    reasons = r.quarantine_rows().set_index("row")["reason"].to_dict()
    assert reasons == {3: "empty_row", 5: "malformed_row"}
    assert r.data["row"].tolist() == [2, 4, 6]


def test_value_problems_each_have_a_reason(tmp_path, questionnaire):
    i1, i2 = questionnaire.item_ids[:2]
    frame = pd.DataFrame({
        "id": ["a", "b", "c", "d", "e", "f", "g"],
        i1: ["Agree", "7", "3.5", "Somewhat", "N/A", " strongly AGREE ", "4 - Agree"],
        i2: [4, 4, 4, 4, None, 2, 3],
    })
    path = tmp_path / "values.csv"
    frame.to_csv(path, index=False)
    r = load_responses(path, min_answered=0.2)
    reasons = r.quarantine_rows().set_index("respondent_id")["reason"].to_dict()
    assert reasons == {"b": "out_of_range", "c": "not_on_scale", "d": "unknown_label", "e": "empty_row"}
    kept = r.data.set_index("respondent_id")[i1].to_dict()
    assert kept == {"a": 4, "f": 5, "g": 4}
    record = r.quarantine.set_index("respondent_id").loc["b"]
    assert record["column"] == i1 and record["value"] == "7" and "1 to 5" in record["detail"]


def test_duplicates_keep_the_latest_submission(tmp_path, questionnaire):
    i1 = questionnaire.item_ids[0]
    frame = pd.DataFrame({
        "id": ["x", "y", "x", "x"],
        "Completion time": ["2026-10-05 10:00", "2026-10-05 11:00", "2026-10-07 09:00", "2026-10-06 09:00"],
        i1: [1, 2, 3, 4],
    })
    path = tmp_path / "dupes.csv"
    frame.to_csv(path, index=False)
    r = load_responses(path, min_answered=0.2)
    assert r.data.set_index("respondent_id")[i1].to_dict() == {"y": 2, "x": 3}
    superseded = r.quarantine[r.quarantine["reason"] == "superseded"]
    assert sorted(superseded["row"]) == [2, 5]
    assert set(superseded["detail"]) == {"superseded by row 4"}


def test_missing_unit_only_when_units_are_used(tmp_path, questionnaire):
    i1 = questionnaire.item_ids[0]
    frame = pd.DataFrame({"id": ["a", "b"], "Business unit": ["Finance", " "], i1: [1, 2]})
    path = tmp_path / "units.csv"
    frame.to_csv(path, index=False)
    assert load_responses(path, min_answered=0.2).summary["quarantined_by_reason"] == {"missing_unit": 1}
    assert load_responses(path, unit_column=False, min_answered=0.2).summary["rows_quarantined"] == 0
    assert load_responses(path, require_unit=False, min_answered=0.2).summary["rows_quarantined"] == 0
    assert load_responses(path).summary["quarantined_by_reason"] == {"too_few_answers": 2}


def test_extra_columns_are_metadata_not_errors(questionnaire, tmp_path):
    frame = pd.read_csv(sample_path()).assign(**{"Cost centre": "CC-17", "Site": "Leeds"})
    frame.to_csv(tmp_path / "export.csv", index=False)
    responses = load_responses(tmp_path / "export.csv", questionnaire)
    assert {"Cost centre", "Site"} <= set(responses.columns.extra)
    assert (responses.data["Site"] == "Leeds").all()
    # Direct identifiers are not metadata: they are dropped (tests/test_personal.py).
    assert "Email" not in responses.data.columns and responses.summary["identifiers_dropped"] == ["Email", "Name"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02\x03\x00\x00binary", "binary file"),
        (b"PK\x03\x04 not really a zip", "not a readable XLSX workbook"),
        (b"foo,bar\n1,2\n", "no column matches an item"),
    ],
)
def test_unreadable_files_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ResponsesError, match=message) as info:
        load_responses(path)
    assert str(path) in str(info.value)


def test_missing_file_sheet_and_column_errors(tmp_path, sample):
    with pytest.raises(ResponsesError, match="file not found"):
        load_responses(tmp_path / "nope.csv")
    xlsx = sample.write(tmp_path / "s.xlsx", layout="ids")
    with pytest.raises(ResponsesError, match=r"has no sheet 'Nope'; sheets are \['Responses'\]"):
        load_responses(xlsx, sheet="Nope")
    with pytest.raises(ResponsesError, match="'Division' given as unit column is not in the file"):
        load_responses(xlsx, unit_column="Division")
    with pytest.raises(ResponsesError, match="does not have"):
        load_responses(xlsx, mapping={"comment": "NOPE1"})


def test_duplicate_headers_are_refused(tmp_path, questionnaire):
    path = tmp_path / "dup.csv"
    path.write_text(f"id,{questionnaire.item_ids[0]},id\n1,2,3\n", encoding="utf-8")
    with pytest.raises(ResponsesError, match="appears twice"):
        load_responses(path)


def test_two_columns_for_one_item_is_an_error(tmp_path, questionnaire):
    item = questionnaire.items[0]
    path = tmp_path / "two.csv"
    pd.DataFrame({item.id: [1], item.text: [2]}).to_csv(path, index=False)
    with pytest.raises(ResponsesError, match="both match item"):
        load_responses(path)


def test_dataframe_input(sample):
    frame = export_frame(sample, layout="ids")
    r = load_responses(frame)
    assert r.summary["source"]["format"] == "frame"
    assert_identity(r)
    assert r.summary["rows_accepted"] == load_responses(sample_path()).summary["rows_accepted"]


def test_windows_1252_byte_after_the_first_64_kb(tmp_path, questionnaire):
    ids = questionnaire.item_ids
    rows = [",".join(["Finance", *["4"] * len(ids)]) for _ in range(1500)]
    rows.append(",".join(["Recherche & Développement", *["3"] * len(ids)]))
    text = "Business unit," + ",".join(ids) + "\n" + "\n".join(rows) + "\n"
    path = tmp_path / "late.csv"
    path.write_bytes(text.encode("cp1252"))
    assert len(text) > 65536
    r = load_responses(path)
    assert r.summary["source"]["encoding"] == "cp1252"
    assert r.data["unit"].iloc[-1] == "Recherche & Développement"


def test_whole_number_answers_read_as_arrow_match_the_dataframe_path(tmp_path, questionnaire):
    # Integer-typed answer columns of a CSV stay Arrow arrays until the scan converts them block by
    # block (the file spans two parser blocks and two scan parts); a DataFrame takes the plain path.
    ids = questionnaire.item_ids[:6]
    rng = np.random.default_rng(7)
    n = 300_000
    answers = rng.integers(1, 6, size=(n, len(ids))).astype(float)
    answers[rng.random(answers.shape) < 0.05] = np.nan  # blanks
    answers[[5, 150_000, 299_999], [0, 2, 5]] = [9, 0, 6]  # out of range, near both part ends
    frame = pd.DataFrame(answers, columns=ids).astype("Int64")
    frame.insert(0, "id", [f"r{i}" for i in range(n)])
    path = tmp_path / "numbers.csv"
    frame.to_csv(path, index=False)
    assert path.stat().st_size > 1 << 22  # more than one 4 MB parser block
    from pmo_maturity.readers import read_table
    raw = read_table(path, text_columns={"id"}, answer_columns=set(ids))
    assert all(isinstance(raw.frame[i].dtype, pd.ArrowDtype) for i in ids)
    assert raw.frame[ids[0]].array.__arrow_array__().num_chunks > 1

    r = load_responses(path, min_answered=0.2)
    plain = load_responses(frame.astype({i: float for i in ids}), min_answered=0.2)
    assert_identity(r)
    bad = r.quarantine[r.quarantine["reason"] == "out_of_range"]
    assert bad["row"].tolist() == [7, 150_002, 300_001]  # spreadsheet rows: header is row 1
    assert bad["value"].tolist() == [9, 0, 6]
    assert bad["column"].tolist() == [ids[0], ids[2], ids[5]]
    pd.testing.assert_frame_equal(r.data[["respondent_id", *ids]], plain.data[["respondent_id", *ids]])
    assert r.data[ids].isna().sum().sum() == np.isnan(np.delete(answers, [5, 150_000, 299_999], axis=0)).sum()


@pytest.mark.parametrize("ids", [
    [f"R{i:07d}" for i in range(50_000)],  # fixed width: one block of bytes
    [f"R{i:07d}" for i in range(50_000)] + ["R0000007"],
    [str(i) for i in range(1, 20_001)],  # MS Forms-style numbers of every width
    [str(i) for i in range(1, 20_001)] + ["12345"],
    ["", "a", "ab", "é", "a\x00"], ["", "", "x"], ["ab", "ba", "ab"],
    ["long-identifier-0001", "long-identifier-0002", "long-identifier-0001"],  # over 8 bytes: pandas
])
def test_repeated_ids_are_found_as_pandas_finds_them(ids):
    from pmo_maturity.responses import _all_different
    rng = np.random.default_rng(len(ids))
    column = pd.Series(rng.permutation(np.array(ids, dtype=object)), dtype="str")
    assert _all_different(column) == column.is_unique


def test_repeated_short_ids_agree_with_pandas_on_random_sets():
    from hypothesis import given, settings, strategies as st

    from pmo_maturity.responses import _all_different

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(st.lists(st.text(alphabet="ab\u00e90\x00", max_size=4), min_size=2, max_size=30))
    def check(ids):
        column = pd.Series(ids, dtype="str")
        assert _all_different(column) == column.is_unique

    check()


@pytest.mark.parametrize("late", ["300", "3.5", "x"])
def test_a_late_cell_that_does_not_fit_the_8_bit_guess_falls_back_to_the_parsers_types(tmp_path, questionnaire, late):
    # The first 64 KB hold only small whole numbers, so the parser is first asked for 8-bit
    # integers; a cell far below that does not fit, and the file is read again with inferred types.
    ids = questionnaire.item_ids[:5]
    n = 20_000
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], **{i: np.full(n, 3, dtype=object) for i in ids}})
    frame.loc[n - 10, ids[2]] = late
    path = tmp_path / "late.csv"
    frame.to_csv(path, index=False)
    assert path.stat().st_size > 65536
    from pmo_maturity.readers import read_table
    assert all(isinstance(read_table(path, answer_columns=set(ids)).frame[i].dtype, pd.ArrowDtype) for i in ids[:2])
    r = load_responses(path, min_answered=0.2)
    assert_identity(r)
    bad = r.quarantine[r.quarantine["reason"] != "too_few_answers"]
    reason = {"300": "out_of_range", "3.5": "not_on_scale", "x": "unknown_label"}[late]
    assert bad[["row", "column", "reason"]].values.tolist() == [[n - 10 + 2, ids[2], reason]]
    assert str(bad["value"].iloc[0]) in (late, f"{float(late):g}" if late != "x" else late)
    assert r.summary["rows_accepted"] == n - 1 and r.data[ids[0]].eq(3).all()


def test_source_hash_is_the_sha256_of_the_files_bytes(tmp_path):
    import hashlib
    r = load_responses(sample_path())
    assert r.summary["source"]["sha256"] == hashlib.sha256(sample_path().read_bytes()).hexdigest()
    assert r.input_hash == r.summary["source"]["sha256"]


def test_text_cleaning_skips_no_value_that_needs_stripping():
    # Columns with nothing to strip and nothing blank are passed through uncopied; the result must
    # still equal pandas' strip-and-blank for any mix of ASCII, Unicode spaces, blanks and nulls.
    from pmo_maturity.metadata import already_clean as _already_clean, text as _text

    rng = np.random.default_rng(11)
    alphabet = ["a", "B", " ", "\t", "é", "\u00a0", "\u3000", "x", "\n", "1"]
    clean = 0
    for _ in range(2000):
        values = [None if rng.random() < 0.1 else "".join(rng.choice(alphabet, size=int(rng.integers(0, 5))))
                  for _ in range(int(rng.integers(1, 12)))]
        column = pd.Series(values, dtype="str")
        if rng.random() < 0.3:
            column = column.iloc[1:]  # an Arrow slice: buffers read from an offset
        expected = column.str.strip()
        expected = expected.where(expected.str.len() > 0)
        assert _text(column).reset_index(drop=True).equals(expected.reset_index(drop=True)), values
        clean += _already_clean(column)
    assert clean > 50  # the pass-through was exercised
    assert not _already_clean(pd.Series(["a", "b\u00a0"], dtype="str"))


def test_a_quoted_line_break_on_a_parser_block_boundary_loses_no_row(tmp_path, questionnaire):
    # A comment's line break 5 bytes before the 4 MB boundary of the CSV parser's blocks. A splitter
    # that ignores quotes would drop that respondent and make a row of the comment's second line.
    # (Were that line as many fields as the header, the value would read as a stray quote that
    # swallows a row: tests/corpus.py has those cases.)
    i1, i2, i3 = questionnaire.item_ids[:3]
    header = f"ID,Business unit,{i1},{i2},{i3},Comment\n".encode()
    block = 1 << 22
    rows, size, i = [], len(header), 0
    while size < block - 200:
        rows.append(b"r%d,Finance,1,2,3,ok\n" % i)
        size += len(rows[-1])
        i += 1
    start = b'r%d,Finance,1,2,3,"first line' % i
    special = start + b"." * (block - size - len(start) - 6) + b'\n9,9,9,end"\n'
    path = tmp_path / "boundary.csv"
    path.write_bytes(header + b"".join(rows) + special + b"r_last,Finance,1,2,3,ok\n")
    r = load_responses(path, min_answered=0.2)
    assert_identity(r)
    assert r.summary["rows_in"] == len(rows) + 2
    kept = r.data.set_index("respondent_id")
    assert kept.loc[f"r{i}", "comment"].startswith("first line") and kept.loc[f"r{i}", "comment"].endswith("end")
    assert "9" not in kept.index and "r_last" in kept.index


def test_delimiter_is_one_character_or_a_name(tmp_path, questionnaire):
    i1 = questionnaire.item_ids[0]
    path = tmp_path / "tabs.csv"
    path.write_text(f"ID\tBusiness unit\t{i1}\nr1\tFinance\t4\nr2\tFinance\t3\n", encoding="utf-8")
    assert load_responses(path, delimiter="tab", min_answered=0.2).summary["rows_accepted"] == 2
    assert load_responses(path, delimiter="\t", min_answered=0.2).summary["rows_accepted"] == 2
    with pytest.raises(ConfigurationError, match="option delimiter.*'\\|\\|'.*one character"):
        load_responses(path, delimiter="||")


def test_malformed_lines_in_long_files_are_quarantined(tmp_path, questionnaire):
    path = tmp_path / "long.csv"
    path.write_text("respondent,item,answer\nr1,INS1,4\nr1,INS2,5,extra\nr1,INS3,4\nr1,INS4,3\n", encoding="utf-8")
    r = load_responses(path, questionnaire, min_answered=0.2)
    s = r.summary
    assert s["rows_in"] == 4 and s["rows_quarantined"] == 1 and s["quarantined_by_reason"] == {"malformed_row": 1}


def test_empty_frame_with_whole_number_answers_loads(questionnaire):
    empty = export_of([("Finance", "Team member", 3, 3)], questionnaire).iloc[:0]
    r = load_responses(empty)
    assert r.summary["rows_in"] == 0 and r.data.empty


def test_far_apart_times_are_not_wrapped_into_speeders(questionnaire):
    data = export_of([("Finance", "Team member", 12, 3)], questionnaire, seed=3)
    data["Start time"] = ["2026-10-05 10:00"] * 11 + ["1700-01-01 00:00"]
    data["Completion time"] = ["2026-10-05 10:20"] * 10 + ["2026-10-05 10:02", "2200-01-01 00:00"]
    flags = load_responses(data).flags
    speeders = flags[flags["flag"] == "speeder"]
    assert speeders["row"].tolist() == [12]  # the two-minute one; 500 years is slow, not fast
    assert "120 s against a median of 1200 s" in speeders["detail"].iloc[0]
