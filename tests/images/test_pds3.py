"""PDS3 EDR reading on the real Opportunity sample: label facts, clock order, stretch, broken files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from areograph.images.pds3 import Pds3Error, Pds3LayoutError, list_frames, read_edr, read_label, stretch_12bit


@pytest.fixture(scope="module")
def edr_dir(sample_dir: Path) -> Path:
    return sample_dir / "rovers" / "opportunity"


@pytest.fixture(scope="module")
def first_edr(edr_dir: Path) -> Path:
    return edr_dir / "1F483288473EFFCMUFP1214L0M1.IMG"


def test_label_parses_blocks_multiline_values_and_radix(first_edr: Path) -> None:
    label = read_label(first_edr)
    assert label["PLANET_DAY_NUMBER"] == 4000
    assert label["^IMAGE"] == 21 and label["RECORD_BYTES"] == 2048
    assert label["PRODUCER_INSTITUTION_NAME"] == "MULTIMISSION IMAGE PROCESSING SUBSYSTEM, JET PROPULSION LAB"
    assert label["IMAGE"]["LINES"] == 1024 and label["IMAGE"]["SAMPLE_TYPE"] == "MSB_INTEGER"
    assert label["IMAGE"]["SAMPLE_BIT_MASK"] == 0x0FFF
    angles = label["PMA_ARTICULATION_STATE"]["ARTICULATION_DEVICE_ANGLE"]
    assert [(a.value, a.units) for a in angles[:2]] == [(-0.00469613, "rad"), (-0.412906, "rad")]
    # a value that starts on the line after its '=' (pvl reads it; the hand-written parser did not)
    assert label["SPICE_FILE_NAME"].endswith("/chronos.mer")
    assert label["TELEMETRY_PROVIDER_ID"] == "SSW MER_DP"
    assert label["LOCAL_TRUE_SOLAR_TIME"] == "12:25:27"  # dates stay text, as captions print them


def test_malformed_label_syntax_names_the_file_and_the_line(first_edr: Path, tmp_path: Path) -> None:
    broken = tmp_path / "quote.IMG"
    broken.write_bytes(first_edr.read_bytes().replace(b'"MULTIMISSION', b'MULTI"MISSION', 1))
    with pytest.raises(Pds3Error, match=r"quote\.IMG: PDS3 label cannot be parsed: .*line 35 column"):
        read_edr(broken)


def test_sample_frames_facts_and_clock_order(edr_dir: Path) -> None:
    frames = list_frames(edr_dir)
    assert len(frames) == 6
    assert [f.sol for f in frames] == [4000, 4004, 4016, 4084, 4173, 4386]
    assert all(4000 <= f.sol <= 5175 for f in frames)
    assert all(f.instrument_id == "FRONT_HAZCAM_LEFT" for f in frames)
    clocks = [f.sclk_start for f in frames]
    assert clocks == sorted(clocks) and len(set(clocks)) == 6
    first = frames[0]
    assert first.product_id == "1F483288473EFFCMUFP1214L0M1"
    assert first.local_true_solar_time == "12:25:27"
    assert first.sclk_start == pytest.approx(483288473.496)
    assert first.start_time == "2015-04-26T02:37:16.685Z"
    assert first.caption() == "Opportunity Front HazCam Left | sol 4000 | 12:25:27 LTST"


def test_order_follows_the_clock_not_the_file_names(edr_dir: Path, tmp_path: Path) -> None:
    originals = sorted(edr_dir.glob("*.IMG"))
    for i, path in enumerate(originals):  # reverse the alphabetical order of the names
        shutil.copy(path, tmp_path / f"{chr(ord('z') - i)}_{path.name}")
    frames = list_frames(tmp_path)
    assert [f.product_id for f in frames] == [p.stem for p in originals]


def test_read_edr_matches_raw_big_endian_counts_and_stretches(first_edr: Path) -> None:
    image, frame = read_edr(first_edr)
    assert image.shape == (1024, 1024) and image.dtype == np.float32
    assert frame.sol == 4000
    # independent read of the raw records: image starts at record 21 of 2048 bytes, MSB int16
    raw = np.frombuffer(first_edr.read_bytes()[20 * 2048 :], dtype=">i2").reshape(1024, 1024)
    assert raw.max() == 4046  # the label's MAXIMUM: the data really are 12-bit
    np.testing.assert_allclose(image, stretch_12bit(raw, raw != 0), atol=1e-6)
    assert image.min() >= 0.0 and image.max() <= 1.0
    # robust stretch: about 0.5 % of the pixels clip at each end (not a fixed /4095, which clips none)
    assert 0.002 < np.mean(image == 1.0) < 0.01
    assert 0.002 < np.mean(image == 0.0) < 0.01
    assert image.mean() > 1.5 * np.mean(raw / 4095.0)


def test_truncated_file_is_an_error_naming_it(first_edr: Path, tmp_path: Path) -> None:
    broken = tmp_path / "truncated.IMG"
    broken.write_bytes(first_edr.read_bytes()[:1_000_000])
    with pytest.raises(Pds3Error, match=r"truncated\.IMG: truncated"):
        read_edr(broken)
    with pytest.raises(Pds3Error, match=r"truncated\.IMG"):
        list_frames(tmp_path)


def test_label_less_and_empty_files_are_errors_naming_them(first_edr: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.IMG"
    bare.write_bytes(first_edr.read_bytes()[20 * 2048 :])  # the image records without the label
    with pytest.raises(Pds3Error, match=r"bare\.IMG: no PDS3 label"):
        read_edr(bare)
    empty = tmp_path / "empty.IMG"
    empty.write_bytes(b"")
    with pytest.raises(Pds3Error, match=r"empty\.IMG: empty file"):
        read_label(empty)


def test_label_without_end_or_required_key(first_edr: Path, tmp_path: Path) -> None:
    text = first_edr.read_bytes()[: 13 * 2048].decode("latin-1")
    no_end = tmp_path / "noend.IMG"
    no_end.write_bytes(text.split("\nEND\r")[0].encode("latin-1"))
    with pytest.raises(Pds3Error, match=r"noend\.IMG: PDS3 label has no END"):
        read_label(no_end)
    no_sol = tmp_path / "nosol.IMG"
    no_sol.write_bytes(first_edr.read_bytes().replace(b"PLANET_DAY_NUMBER", b"PLANET_DAY_NUMBEX"))
    with pytest.raises(Pds3Error, match=r"nosol\.IMG: PDS3 label lacks PLANET_DAY_NUMBER"):
        read_edr(no_sol)


def test_a_wrong_record_length_is_a_named_layout_error_not_a_shifted_image(
    first_edr: Path, tmp_path: Path
) -> None:
    """RECORD_BYTES = 1024 on a 2048-byte-record EDR: GDAL alone would read a shifted image silently."""
    data = first_edr.read_bytes()
    assert data.count(b"RECORD_BYTES ") == 1 and data.count(b"FILE_RECORDS ") == 1
    short = tmp_path / "short_records.IMG"
    short.write_bytes(re.sub(rb"RECORD_BYTES( +)= 2048", rb"RECORD_BYTES\1= 1024", data))
    with pytest.raises(Pds3LayoutError, match=r"short_records\.IMG: label layout .*RECORD_BYTES = 1024"):
        read_edr(short)
    with pytest.raises(Pds3LayoutError, match=r"short_records\.IMG"):
        list_frames(tmp_path)
    # consistent pointer (image after the label) but a record count that does not fit the file size
    shifted = tmp_path / "records.IMG"
    shifted.write_bytes(re.sub(rb"FILE_RECORDS( +)= 1044", rb"FILE_RECORDS\1= 1040", data))
    with pytest.raises(Pds3LayoutError, match=r"FILE_RECORDS = 1040 is 2129920 bytes, but the file has 21"):
        read_edr(shifted)
