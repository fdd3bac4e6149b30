//! Decoding every supported format, and a clear error for every kind of bad file.

use std::path::PathBuf;

use attune::audio::decode::{ChannelSelect, DecodeError, Decoder};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Decodes the whole file: (samples, rate, channels, codec).
fn decode(
    name: &str,
    channel: ChannelSelect,
) -> Result<(Vec<f32>, u32, usize, String), DecodeError> {
    let mut d = Decoder::open(&fixture(name), channel)?;
    let (rate, channels, codec) = (
        d.info().sample_rate_hz,
        d.info().channels,
        d.info().codec.clone(),
    );
    let mut all = Vec::new();
    while let Some(b) = d.next_block()? {
        all.extend_from_slice(b);
    }
    assert_eq!(d.samples_read(), all.len() as u64);
    Ok((all, rate, channels, codec))
}

/// Frequency from rising zero crossings over the middle of the signal.
fn frequency(x: &[f32], rate: u32) -> f64 {
    let mid = &x[x.len() / 5..x.len() * 4 / 5];
    let crossings: Vec<usize> = (1..mid.len())
        .filter(|&i| mid[i - 1] < 0.0 && mid[i] >= 0.0)
        .collect();
    let span = (crossings[crossings.len() - 1] - crossings[0]) as f64;
    (crossings.len() - 1) as f64 * f64::from(rate) / span
}

#[test]
fn every_supported_format_decodes_to_the_right_tone() {
    let cases = [
        ("wav_u8.wav", 16_000, 0.5, "pcm_u8"),
        ("wav_s24.wav", 44_100, 0.5, "pcm_s24le"),
        ("wav_s32.wav", 96_000, 0.3, "pcm_s32le"),
        ("wav_f32.wav", 48_000, 0.5, "pcm_f32le"),
        ("wav_f64.wav", 22_050, 0.5, "pcm_f64le"),
        ("tone.flac", 44_100, 0.8, "flac"),
        ("tone.mp3", 44_100, 0.8, "mp3"),
        ("tone.ogg", 44_100, 0.8, "vorbis"),
        ("tone.m4a", 44_100, 0.8, "aac"),
        ("video.mp4", 44_100, 0.8, "aac"),
    ];
    for (name, rate, secs, codec) in cases {
        let (x, r, ch, c) =
            decode(name, ChannelSelect::Downmix).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r, rate, "{name}");
        assert_eq!(ch, 1, "{name}");
        assert_eq!(c, codec, "{name}");
        let dur = x.len() as f64 / f64::from(r);
        // Lossy codecs add priming samples; allow 5 %.
        assert!((dur - secs).abs() <= secs * 0.05 + 0.03, "{name}: {dur} s");
        let f = frequency(&x, r);
        assert!((f / 440.0 - 1.0).abs() < 0.02, "{name}: {f} Hz");
        assert!(x.iter().all(|v| v.is_finite() && v.abs() <= 1.0), "{name}");
    }
}

#[test]
fn a_channel_is_chosen_by_index_or_mixed_down() {
    let (left, rate, channels, _) =
        decode("wav_s16_stereo.wav", ChannelSelect::Channel(0)).unwrap();
    assert_eq!((rate, channels), (8_000, 2));
    assert!((frequency(&left, rate) / 440.0 - 1.0).abs() < 0.02);
    let (right, ..) = decode("wav_s16_stereo.wav", ChannelSelect::Channel(1)).unwrap();
    assert!((frequency(&right, rate) / 660.0 - 1.0).abs() < 0.02);
    let (mix, ..) = decode("wav_s16_stereo.wav", ChannelSelect::Downmix).unwrap();
    for i in 0..mix.len() {
        assert!((mix[i] - (left[i] + right[i]) / 2.0).abs() < 1e-6);
    }
    match decode("wav_s16_stereo.wav", ChannelSelect::Channel(2)) {
        Err(DecodeError::ChannelOutOfRange {
            requested: 3,
            available: 2,
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_files_give_the_matching_error() {
    let expect = |name: &str, ok: fn(&DecodeError) -> bool| {
        let err = decode(name, ChannelSelect::Downmix)
            .err()
            .unwrap_or_else(|| panic!("{name} decoded"));
        assert!(ok(&err), "{name}: {err:?}");
        // One short sentence.
        assert!(!err.to_string().contains('\n'));
    };
    expect("empty.wav", |e| matches!(e, DecodeError::Empty));
    expect("header_only.wav", |e| matches!(e, DecodeError::Empty));
    expect("not_audio.wav", |e| {
        matches!(e, DecodeError::UnsupportedFormat)
    });
    expect("random.bin", |e| {
        matches!(e, DecodeError::UnsupportedFormat)
    });
    // An absurd header is named for what is wrong with it.
    expect(
        "zero_rate.wav",
        |e| matches!(e, DecodeError::InvalidHeader(m) if m.starts_with("sample rate 0 Hz")),
    );
    expect(
        "many_channels.wav",
        |e| matches!(e, DecodeError::InvalidHeader(m) if m.starts_with("65535 channels")),
    );
    expect("no_such_file.wav", |e| matches!(e, DecodeError::Io(_)));
    expect("", |e| matches!(e, DecodeError::Io(_)));
}

#[test]
fn a_truncated_file_ends_where_its_data_ends() {
    let (x, rate, ..) = decode("truncated.wav", ChannelSelect::Downmix).unwrap();
    assert_eq!(rate, 16_000);
    assert_eq!(x.len(), 1_600);
}

#[test]
fn bytes_in_memory_decode_like_files() {
    let bytes = std::fs::read(fixture("tone.flac")).unwrap();
    let mut d = Decoder::from_bytes(bytes, Some("flac"), ChannelSelect::Downmix).unwrap();
    let mut n = 0;
    while let Some(b) = d.next_block().unwrap() {
        n += b.len();
    }
    assert_eq!(n, d.samples_read() as usize);
    assert!(n > 30_000);
    assert!(matches!(
        Decoder::from_bytes(Vec::new(), None, ChannelSelect::Downmix),
        Err(DecodeError::Empty)
    ));
}

/// A 16-bit PCM WAV file with an odd-sized (so padded) `JUNK` chunk before its format chunk,
/// as some recorders write them.
fn wav_with_junk_chunk(rate_hz: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
    let junk = b"pad\x00\x00";
    let block = 2 * channels;
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&rate_hz.to_le_bytes());
    fmt.extend_from_slice(&(rate_hz * u32::from(block)).to_le_bytes());
    fmt.extend_from_slice(&block.to_le_bytes());
    fmt.extend_from_slice(&16u16.to_le_bytes());
    let mut body = b"WAVE".to_vec();
    for (id, chunk) in [
        (b"JUNK", &junk[..]),
        (b"fmt ", &fmt[..]),
        (b"data", &data[..]),
    ] {
        body.extend_from_slice(id);
        body.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        body.extend_from_slice(chunk);
        if chunk.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(body.len() as u32).to_le_bytes());
    file.extend_from_slice(&body);
    file
}

#[test]
fn the_header_check_finds_the_format_chunk_behind_other_chunks() {
    let samples: Vec<i16> = (0..1600).map(|i| ((i % 40) * 400 - 8000) as i16).collect();
    let good = wav_with_junk_chunk(16_000, 1, &samples);
    let mut d = Decoder::from_bytes(good, Some("wav"), ChannelSelect::Downmix).unwrap();
    assert_eq!(d.info().sample_rate_hz, 16_000);
    let mut n = 0;
    while let Some(b) = d.next_block().unwrap() {
        n += b.len();
    }
    assert_eq!(n, samples.len());
    for (rate_hz, channels, reason) in [
        (0, 1, "sample rate 0 Hz"),
        (5_000_000, 1, "sample rate 5000000 Hz"),
        (16_000, 0, "0 channels"),
    ] {
        let bad = wav_with_junk_chunk(rate_hz, channels, &samples);
        match Decoder::from_bytes(bad, Some("wav"), ChannelSelect::Downmix) {
            Err(DecodeError::InvalidHeader(m)) => assert!(m.starts_with(reason), "{m}"),
            Err(e) => panic!("{reason}: {e}"),
            Ok(_) => panic!("{reason}: decoded"),
        }
    }
}

/// A FLAC file's start: the marker, the fixture's stream info, then one more (last) metadata
/// block of `kind` holding `body`.
fn flac_with_block(kind: u8, body: &[u8]) -> Vec<u8> {
    let tone = std::fs::read(fixture("tone.flac")).unwrap();
    // "fLaC", then the 4-byte header and 34 bytes of the stream info block.
    let mut file = tone[..4 + 4 + 34].to_vec();
    file[4] &= 0x7f;
    file.push(0x80 | kind);
    file.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    file.extend_from_slice(body);
    file.extend_from_slice(&tone[4 + 4 + 34..]);
    file
}

#[test]
fn a_flac_metadata_length_past_its_block_is_corrupt_before_anything_is_allocated() {
    // A Vorbis comment block: vendor "attune", one comment claiming 4 GiB.
    let mut comment = 6u32.to_le_bytes().to_vec();
    comment.extend_from_slice(b"attune");
    comment.extend_from_slice(&1u32.to_le_bytes());
    comment.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    // A picture block whose description claims 4 GiB.
    let mut picture = 3u32.to_be_bytes().to_vec();
    picture.extend_from_slice(&9u32.to_be_bytes());
    picture.extend_from_slice(b"image/png");
    picture.extend_from_slice(&0xffff_fff0u32.to_be_bytes());
    for (kind, body) in [(4, comment), (6, picture)] {
        match Decoder::from_bytes(
            flac_with_block(kind, &body),
            Some("flac"),
            ChannelSelect::Downmix,
        ) {
            Err(DecodeError::Corrupt(m)) => assert!(m.contains("longer than its block"), "{m}"),
            Err(e) => panic!("block {kind}: {e}"),
            Ok(_) => panic!("block {kind}: decoded"),
        }
    }
    // The same blocks with honest lengths decode.
    let mut comment = 6u32.to_le_bytes().to_vec();
    comment.extend_from_slice(b"attune");
    comment.extend_from_slice(&1u32.to_le_bytes());
    comment.extend_from_slice(&7u32.to_le_bytes());
    comment.extend_from_slice(b"TITLE=a");
    let mut d = Decoder::from_bytes(
        flac_with_block(4, &comment),
        Some("flac"),
        ChannelSelect::Downmix,
    )
    .unwrap();
    assert!(d.next_block().unwrap().is_some());
}
