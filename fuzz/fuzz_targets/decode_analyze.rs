//! Arbitrary bytes through the decoder and the Analyzer, as `attune analyze` runs them. The
//! first byte picks the container hint and the channel, the rest is the file.
#![no_main]

use attune::analysis::Analyzer;
use attune::audio::decode::{ChannelSelect, Decoder};
use attune::config::AnalysisConfig;
use libfuzzer_sys::fuzz_target;

const HINTS: [Option<&str>; 8] = [None, Some("wav"), Some("flac"), Some("mp3"), Some("ogg"), Some("m4a"), Some("mp4"), Some("aac")];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let hint = HINTS[usize::from(selector & 7)];
    let channel = match selector >> 3 {
        0..=15 => ChannelSelect::Downmix,
        c => ChannelSelect::Channel(usize::from(c - 16)),
    };
    let Ok(mut decoder) = Decoder::from_bytes(bytes.to_vec(), hint, channel) else {
        return;
    };
    let Ok(mut analyzer) = Analyzer::new(&AnalysisConfig::default(), decoder.info().sample_rate_hz) else {
        return;
    };
    let mut events = Vec::new();
    // Bound the work per input: a tiny file may claim hours of audio.
    let mut budget = 2_000_000usize;
    while let Ok(Some(block)) = decoder.next_block() {
        analyzer.process(block, &mut events);
        events.clear();
        budget = budget.saturating_sub(block.len());
        if budget == 0 {
            break;
        }
    }
    analyzer.finish(&mut events);
});
