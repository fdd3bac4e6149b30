//! The files `attune analyze` writes for one input, written as the events arrive so memory
//! stays flat however long the recording. Files are created readable by their owner only and
//! under temporary names; they get their final names only when the analysis succeeded.

use std::fs::{File, OpenOptions};
pub mod corpus;

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::histogram::F0Histogram;
use crate::analysis::report::{SessionReport, TurnRow};
use crate::audio::decode::AudioInfo;
use crate::config::{AnalysisConfig, ANALYSIS_RATE_HZ, HOP_SECS};
use crate::dsp::resample::InputStats;
use crate::events::{Event, Vocalisation};
use crate::time::SampleTime;

const PARTIAL: &str = ".partial";

/// Writes `x` with `decimals` (at most 6) digits after the point, exactly as
/// `{x:.decimals$}` does but in integers, at a fraction of the cost of the formatting
/// machinery (`NAME.f0.csv` has three numbers every 10 ms): an f32 times 10^6 (20 bits) is
/// exact in an f64, and ties round to even as the formatter's do. File-writing thread.
fn write_fixed(out: &mut impl Write, x: f32, decimals: u32) -> io::Result<()> {
    let decimals = decimals.min(6);
    let scale = 10u64.pow(decimals);
    let scaled = (f64::from(x) * scale as f64).round_ties_even();
    if scaled.is_nan() || scaled.abs() >= 1e15 {
        // Not finite, or too large for the integer path.
        return write!(out, "{x:.*}", decimals as usize);
    }
    if x.is_sign_negative() {
        out.write_all(b"-")?;
    }
    let scaled = scaled.abs() as u64;
    let mut digits = itoa::Buffer::new();
    out.write_all(digits.format(scaled / scale).as_bytes())?;
    if decimals > 0 {
        write_fraction(out, scaled % scale, decimals)?;
    }
    Ok(())
}

/// Writes `.` and `frac` zero-padded to `decimals` digits. File-writing thread.
fn write_fraction(out: &mut impl Write, frac: u64, decimals: u32) -> io::Result<()> {
    let mut digits = itoa::Buffer::new();
    let frac = digits.format(frac);
    out.write_all(b".")?;
    for _ in frac.len()..decimals as usize {
        out.write_all(b"0")?;
    }
    out.write_all(frac.as_bytes())
}

/// Writes `time` in seconds with three decimals, exactly as `{:.3}` writes
/// [`SampleTime::secs`]: a frame time is a whole number of milliseconds, which integers write
/// without the float formatter. File-writing thread.
fn write_secs_3(out: &mut impl Write, time: SampleTime) -> io::Result<()> {
    const SAMPLES_PER_MS: u64 = ANALYSIS_RATE_HZ as u64 / 1000;
    if ANALYSIS_RATE_HZ.is_multiple_of(1000) && time.0.is_multiple_of(SAMPLES_PER_MS) {
        let ms = time.0 / SAMPLES_PER_MS;
        let mut digits = itoa::Buffer::new();
        out.write_all(digits.format(ms / 1000).as_bytes())?;
        write_fraction(out, ms % 1000, 3)
    } else {
        write!(out, "{:.3}", time.secs())
    }
}

/// Creates `path` for writing, readable and writable by its owner only.
pub fn create_private(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Creates one folder, owner-only (0700) whatever the umask; fails with `AlreadyExists` when
/// anything is there. Any thread.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir)?;
        // The umask may have taken bits away: this folder is ours, set it exactly.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    builder.create(dir)
}

/// Creates `dir` and the folders above it that are missing, each owner-only (0700) whatever
/// the umask; folders that are there (or that another process makes meanwhile) are left as
/// they are. Any thread.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .take_while(|a| !a.is_dir())
        .collect();
    for d in missing.into_iter().rev() {
        match create_private_dir(d) {
            Err(e) if !(e.kind() == io::ErrorKind::AlreadyExists && d.is_dir()) => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// A new owner-only temporary file beside `dest` (`.NAME.XXXXXX.partial`), created under a
/// fresh random name so that nothing planted there (a link, a file with other modes or
/// owners) is ever written through. Any thread.
fn partial_beside(dest: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = dest
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy());
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(PARTIAL)
        .tempfile_in(dir)
}

/// Writes `bytes` to `path` atomically: an owner-only temporary file beside it (see
/// [`partial_beside`]), synced, then renamed over `path` (a link at `path` is replaced, not
/// followed); the temporary file is removed when that fails. Any thread.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = partial_beside(path)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Creates a new owner-only (0600) file for writing; fails with `AlreadyExists` when anything
/// is at `path` already (a file, a folder, a symbolic link, even a dangling one: `O_CREAT |
/// O_EXCL` never follows a link), so nothing is ever replaced or written through a link. Any
/// thread.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Writes `bytes` to a new file at `path` atomically and without replacing anything: an
/// owner-only temporary file beside it (see [`partial_beside`]), synced, then moved to `path`
/// only if nothing is there (fails with `AlreadyExists` otherwise). Any thread.
pub fn write_new_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = partial_beside(path)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}

struct CsvFile {
    dest: PathBuf,
    out: BufWriter<tempfile::NamedTempFile>,
}

impl CsvFile {
    fn create(dest: PathBuf, header: &str) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(64 * 1024, partial_beside(&dest)?);
        writeln!(out, "{header}")?;
        Ok(Self { dest, out })
    }

    fn commit(self) -> io::Result<PathBuf> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.as_file().sync_all()?;
        file.persist(&self.dest).map_err(|e| e.error)?;
        Ok(self.dest)
    }

    /// Drops the temporary file (removed as it closes).
    fn discard(self) {
        drop(self.out);
    }
}

/// Per-file statistics for `NAME.summary.json`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FileStatistics {
    #[serde(rename = "duration_s")]
    pub duration_secs: f64,
    pub frames: u64,
    pub voiced_frames: u64,
    pub voiced_fraction: f64,
    pub f0_median_hz: Option<f32>,
    pub f0_p5_hz: Option<f32>,
    pub f0_p95_hz: Option<f32>,
    pub f0_range_semitones: Option<f32>,
    pub onsets: u64,
    pub vocalisations: u64,
    #[serde(rename = "vocal_time_s")]
    pub vocal_time_secs: f64,
    pub vocal_time_fraction: f64,
    #[serde(rename = "mean_vocalisation_s")]
    pub mean_vocalisation_secs: Option<f64>,
    pub vocalisations_per_minute: f64,
    pub mean_syllables_per_vocalisation: Option<f64>,
    /// Median over multi-syllable vocalisations.
    pub median_syllable_rate_hz: Option<f64>,
    /// Mean over vocalisations with at least three syllables.
    pub mean_regularity: Option<f64>,
    pub mean_level_dbfs: Option<f64>,
    /// Loudest sample (dBFS); none without a finite sample.
    pub peak_dbfs: Option<f64>,
    /// Samples at full scale (see [`crate::dsp::resample::CLIPPED_LEVEL`]), and their share of
    /// all samples.
    pub clipped_samples: u64,
    pub clipped_fraction: f64,
    pub non_finite_samples: u64,
    pub skipped_packets: u64,
}

impl FileStatistics {
    /// Rounds to the precision the measures have (ms, 0.1 %, 0.01 Hz), so the JSON reads cleanly.
    fn round_for_reading(&mut self) {
        let r = |x: f64, digits: i32| {
            let k = 10f64.powi(digits);
            (x * k).round() / k
        };
        let rf = |x: f32| (x * 100.0).round() / 100.0;
        self.duration_secs = r(self.duration_secs, 3);
        self.voiced_fraction = r(self.voiced_fraction, 4);
        self.f0_median_hz = self.f0_median_hz.map(rf);
        self.f0_p5_hz = self.f0_p5_hz.map(rf);
        self.f0_p95_hz = self.f0_p95_hz.map(rf);
        self.f0_range_semitones = self.f0_range_semitones.map(rf);
        self.vocal_time_secs = r(self.vocal_time_secs, 3);
        self.vocal_time_fraction = r(self.vocal_time_fraction, 4);
        self.mean_vocalisation_secs = self.mean_vocalisation_secs.map(|x| r(x, 3));
        self.vocalisations_per_minute = r(self.vocalisations_per_minute, 2);
        self.mean_syllables_per_vocalisation =
            self.mean_syllables_per_vocalisation.map(|x| r(x, 2));
        self.median_syllable_rate_hz = self.median_syllable_rate_hz.map(|x| r(x, 2));
        self.mean_regularity = self.mean_regularity.map(|x| r(x, 3));
        self.mean_level_dbfs = self.mean_level_dbfs.map(|x| r(x, 1));
        // (+ 0.0 turns a rounded -0.0 into 0.0.)
        self.peak_dbfs = self.peak_dbfs.map(|x| r(x, 1) + 0.0);
        self.clipped_fraction = r(self.clipped_fraction, 5);
    }

    /// What a researcher should know about the recording before trusting its numbers: clipping
    /// (levels read low where it clips, and the voice's timbre is distorted) and a recording so
    /// quiet that soft sounds sink into the converter's noise. One line each, none for a healthy
    /// recording.
    pub fn input_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.clipped_fraction >= CLIPPED_WARNING_FRACTION {
            out.push(format!(
                "{:.2} % of the samples are at full scale (clipped): the input gain was too high; \
                 where it clips, levels read low and voices sound harsher to speaker attribution",
                100.0 * self.clipped_fraction
            ));
        }
        if let Some(peak) = self.peak_dbfs.filter(|&p| p < QUIET_WARNING_PEAK_DBFS) {
            out.push(format!(
                "very quiet recording (peak {peak:.0} dBFS): soft sounds may be missed; \
                 record with more input gain or the microphone closer"
            ));
        }
        out
    }
}

/// From this share of clipped samples on, a recording is reported as clipped (a normalised
/// recording touches full scale at a few samples only).
const CLIPPED_WARNING_FRACTION: f64 = 0.001;
/// A recording whose loudest sample is below this (dBFS) is reported as very quiet: its soft
/// sounds, 30 dB under the peak, come near the level below which no frame is voiced (-80 dBFS).
const QUIET_WARNING_PEAK_DBFS: f64 = -50.0;

/// Everything `NAME.summary.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub tool: &'static str,
    pub version: &'static str,
    pub input: InputDescription,
    pub settings: Settings,
    pub statistics: FileStatistics,
    /// Speakers, turns and mirroring (session analysis only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionReport>,
    pub outputs: Vec<String>,
}

impl Summary {
    /// What a researcher should know about the input before trusting its numbers, one line
    /// each: [`FileStatistics::input_warnings`], samples that are not numbers, and a file that
    /// ends before its header says it does (a recording cut short). Any thread.
    pub fn input_warnings(&self) -> Vec<String> {
        let s = &self.statistics;
        let mut out = s.input_warnings();
        if s.non_finite_samples > 0 {
            out.push(if s.peak_dbfs.is_none() {
                "no sample is a number (all NaN or infinite): the file holds no sound".to_string()
            } else {
                format!(
                    "{} samples are not numbers (NaN or infinite): they were read as silence",
                    s.non_finite_samples
                )
            });
        }
        if let Some(announced_s) = self.input.audio.announced_secs {
            if announced_s - s.duration_secs > TRUNCATED_WARNING_S {
                out.push(format!(
                    "the file ends at {:.1} s although its header announces {announced_s:.1} s \
                     (cut short?): what it holds was analysed",
                    s.duration_secs
                ));
            }
        }
        out
    }
}

/// A file whose samples end this much (s) before its header's length is reported as cut short.
const TRUNCATED_WARNING_S: f64 = 0.1;

#[derive(Debug, Clone, Serialize)]
pub struct InputDescription {
    pub path: String,
    #[serde(flatten)]
    pub audio: AudioInfo,
    /// "downmix" or the 1-based channel analysed.
    pub channel: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    #[serde(flatten)]
    pub analysis: AnalysisConfig,
    pub analysis_rate_hz: u32,
    #[serde(rename = "hop_s")]
    pub hop_secs: f64,
}

/// Streams one input's events into its CSV files and gathers its statistics.
pub struct AnalysisWriter {
    base: PathBuf,
    f0: CsvFile,
    onsets: CsvFile,
    segments: CsvFile,
    stats: FileStatistics,
    f0_all: F0Histogram,
    level_power_sum: f64,
    syllable_sum: u64,
    rates: Vec<f64>,
    regularity_sum: f64,
    regularity_n: u64,
    /// Vocalisation events are not written: the session analysis writes attributed segments.
    deferred_segments: bool,
}

/// Header of `NAME.turns.csv`.
pub const TURNS_HEADER: &str = "from,to,direction,prev_start_s,prev_end_s,next_start_s,next_end_s,\
latency_s,overlap,overlap_s,chattr,lena,mirror_score,mirror_contour,mirror_register,\
mirror_duration,mirror_beats,mirror_loudness";

impl AnalysisWriter {
    /// Creates `DIR/NAME.{f0,onsets,segments}.csv` (under temporary names).
    pub fn create(out_dir: &Path, name: &str, config: &AnalysisConfig) -> io::Result<Self> {
        let base = out_dir.join(name);
        let path = |ext: &str| {
            let mut p = base.clone().into_os_string();
            p.push(ext);
            PathBuf::from(p)
        };
        Ok(Self {
            f0: CsvFile::create(path(".f0.csv"), "time_s,f0_hz,confidence")?,
            onsets: CsvFile::create(path(".onsets.csv"), "time_s")?,
            segments: CsvFile::create(
                path(".segments.csv"),
                "start_s,end_s,speaker,duration_s,peak_dbfs,mean_dbfs,f0_median_hz,f0_p5_hz,f0_p95_hz,\
                 voiced_frames,syllables,syllable_rate_hz,mean_ioi_s,regularity,tail_s",
            )?,
            base,
            stats: FileStatistics::default(),
            f0_all: F0Histogram::new(config.f0_min_hz, config.f0_max_hz),
            level_power_sum: 0.0,
            syllable_sum: 0,
            rates: Vec::new(),
            regularity_sum: 0.0,
            regularity_n: 0,
            deferred_segments: false,
        })
    }

    /// From now on vocalisation events are only counted by [`Self::write_segment`]: the
    /// session analysis attributes them first.
    pub fn defer_segments(&mut self) {
        self.deferred_segments = true;
    }

    /// Writes one attributed vocalisation to `NAME.segments.csv`.
    pub fn write_segment(&mut self, v: &Vocalisation, speaker: &str) -> io::Result<()> {
        self.write_vocalisation(v, speaker)
    }

    /// Writes a batch of events. File-reading thread.
    pub fn write_events(&mut self, events: &[Event]) -> io::Result<()> {
        for ev in events {
            match ev {
                Event::Pitch(p) => {
                    let f0 = p.f0_hz.unwrap_or(0.0);
                    let out = &mut self.f0.out;
                    write_secs_3(out, p.time)?;
                    out.write_all(b",")?;
                    write_fixed(out, f0, 2)?;
                    out.write_all(b",")?;
                    write_fixed(out, p.confidence, 3)?;
                    out.write_all(b"\n")?;
                    self.stats.frames += 1;
                    self.level_power_sum += crate::dsp::db_to_power(p.level_dbfs);
                    if let Some(f) = p.f0_hz {
                        self.stats.voiced_frames += 1;
                        self.f0_all.add(f);
                    }
                }
                Event::Onset { time } => {
                    writeln!(self.onsets.out, "{:.3}", time.secs())?;
                    self.stats.onsets += 1;
                }
                Event::VocalisationStart { .. } => {}
                Event::Vocalisation(v) => {
                    if !self.deferred_segments {
                        self.write_vocalisation(v, "unknown")?;
                    }
                }
            }
        }
        Ok(())
    }

    fn write_vocalisation(&mut self, v: &Vocalisation, speaker: &str) -> io::Result<()> {
        let opt = |x: f32| {
            if x > 0.0 {
                format!("{x:.1}")
            } else {
                String::new()
            }
        };
        writeln!(
            self.segments.out,
            "{:.3},{:.3},{},{:.3},{:.1},{:.1},{},{},{},{},{},{:.2},{:.3},{},{:.3}",
            v.start.secs(),
            v.end.secs(),
            speaker,
            v.duration_secs(),
            v.peak_level_dbfs,
            v.mean_level_dbfs,
            opt(v.f0_median_hz),
            opt(v.f0_low_hz),
            opt(v.f0_high_hz),
            v.voiced_frames,
            v.syllables,
            v.syllable_rate_hz,
            v.mean_ioi_secs,
            v.regularity.map(|r| format!("{r:.3}")).unwrap_or_default(),
            v.tail_secs(),
        )?;
        self.stats.vocalisations += 1;
        self.stats.vocal_time_secs += v.duration_secs();
        self.syllable_sum += u64::from(v.syllables);
        if v.syllable_rate_hz > 0.0 {
            self.rates.push(f64::from(v.syllable_rate_hz));
        }
        if let Some(r) = v.regularity {
            self.regularity_sum += f64::from(r);
            self.regularity_n += 1;
        }
        Ok(())
    }

    /// Gives the files their final names and writes `NAME.summary.json`.
    pub fn finish(
        self,
        input: InputDescription,
        config: &AnalysisConfig,
        samples: &InputStats,
        skipped_packets: u64,
    ) -> io::Result<Summary> {
        self.finish_with(input, config, samples, skipped_packets, None)
    }

    /// As [`Self::finish`], and writes `NAME.turns.csv` and the session measures.
    pub fn finish_session(
        self,
        input: InputDescription,
        config: &AnalysisConfig,
        samples: &InputStats,
        skipped_packets: u64,
        report: SessionReport,
        turns: &[TurnRow],
    ) -> io::Result<Summary> {
        self.finish_with(
            input,
            config,
            samples,
            skipped_packets,
            Some((report, turns)),
        )
    }

    fn finish_with(
        mut self,
        input: InputDescription,
        config: &AnalysisConfig,
        samples: &InputStats,
        skipped_packets: u64,
        session: Option<(SessionReport, &[TurnRow])>,
    ) -> io::Result<Summary> {
        let s = &mut self.stats;
        s.duration_secs = input
            .audio
            .duration_secs
            .unwrap_or(s.frames as f64 * HOP_SECS);
        s.voiced_fraction = ratio(s.voiced_frames as f64, s.frames as f64);
        s.f0_median_hz = self.f0_all.quantile(0.5);
        s.f0_p5_hz = self.f0_all.quantile(0.05);
        s.f0_p95_hz = self.f0_all.quantile(0.95);
        s.f0_range_semitones = match (s.f0_p5_hz, s.f0_p95_hz) {
            (Some(lo), Some(hi)) => Some(crate::dsp::semitones(hi, lo)),
            _ => None,
        };
        s.vocal_time_fraction = ratio(s.vocal_time_secs, s.duration_secs);
        s.vocalisations_per_minute = ratio(s.vocalisations as f64 * 60.0, s.duration_secs);
        if s.vocalisations > 0 {
            s.mean_vocalisation_secs = Some(s.vocal_time_secs / s.vocalisations as f64);
            s.mean_syllables_per_vocalisation =
                Some(self.syllable_sum as f64 / s.vocalisations as f64);
        }
        self.rates.sort_by(f64::total_cmp);
        s.median_syllable_rate_hz = self.rates.get(self.rates.len() / 2).copied();
        s.mean_regularity =
            (self.regularity_n > 0).then(|| self.regularity_sum / self.regularity_n as f64);
        s.mean_level_dbfs = (s.frames > 0).then(|| {
            f64::from(crate::dsp::power_to_db(
                self.level_power_sum / s.frames as f64,
            ))
        });
        s.peak_dbfs = (samples.samples > samples.non_finite)
            .then(|| f64::from(crate::dsp::power_to_db(f64::from(samples.peak_abs).powi(2))));
        s.clipped_samples = samples.clipped;
        s.clipped_fraction = ratio(samples.clipped as f64, samples.samples as f64);
        s.non_finite_samples = samples.non_finite;
        s.skipped_packets = skipped_packets;
        s.round_for_reading();

        let mut outputs = Vec::new();
        let mut files = vec![self.f0, self.onsets, self.segments];
        let mut report = None;
        if let Some((rep, rows)) = session {
            let mut p = self.base.clone().into_os_string();
            p.push(".turns.csv");
            let mut csv = CsvFile::create(PathBuf::from(p), TURNS_HEADER)?;
            for r in rows {
                if let Err(e) = write_turn(&mut csv.out, r) {
                    csv.discard();
                    for f in files {
                        f.discard();
                    }
                    return Err(e);
                }
            }
            files.push(csv);
            report = Some(rep);
        }
        for csv in files {
            let p = csv.commit()?;
            outputs.push(file_name(&p));
        }
        let mut json_path = self.base.into_os_string();
        json_path.push(".summary.json");
        let json_path = PathBuf::from(json_path);
        outputs.push(file_name(&json_path));
        let summary = Summary {
            tool: "attune",
            version: env!("CARGO_PKG_VERSION"),
            input,
            settings: Settings {
                analysis: config.clone(),
                analysis_rate_hz: ANALYSIS_RATE_HZ,
                hop_secs: HOP_SECS,
            },
            statistics: self.stats,
            session: report,
            outputs,
        };
        let mut out = BufWriter::new(partial_beside(&json_path)?);
        serde_json::to_writer_pretty(&mut out, &summary).map_err(io::Error::other)?;
        writeln!(out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.as_file().sync_all()?;
        file.persist(&json_path).map_err(|e| e.error)?;
        Ok(summary)
    }

    /// Removes the partial files after a failure.
    pub fn discard(self) {
        self.f0.discard();
        self.onsets.discard();
        self.segments.discard();
    }
}

fn write_turn(out: &mut impl Write, r: &TurnRow) -> io::Result<()> {
    writeln!(out, "{}", turn_fields(r).join(","))
}

/// The fields of one `NAME.turns.csv` row ([`TURNS_HEADER`]): the one writer of turn rows, for
/// `attune analyze` and `attune export`. Any thread.
pub fn turn_fields(r: &TurnRow) -> [String; 18] {
    let t = &r.turn;
    let m = |x: Option<f32>| x.map(|v| format!("{v:.1}")).unwrap_or_default();
    [
        t.from.as_str().to_string(),
        t.to.as_str().to_string(),
        t.direction(),
        format!("{:.3}", r.prev_start_secs),
        format!("{:.3}", t.prev_end_secs),
        format!("{:.3}", t.next_start_secs),
        format!("{:.3}", r.next_end_secs),
        format!("{:.3}", t.latency_secs),
        u8::from(t.latency_secs < 0.0).to_string(),
        format!("{:.3}", t.overlap_secs()),
        u8::from(r.chattr).to_string(),
        u8::from(r.lena).to_string(),
        m(r.mirror.map(|s| s.score)),
        m(r.mirror.map(|s| s.contour)),
        m(r.mirror.map(|s| s.register)),
        m(r.mirror.map(|s| s.duration)),
        m(r.mirror.map(|s| s.beats)),
        m(r.mirror.map(|s| s.loudness)),
    ]
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(x: f32, decimals: u32) -> String {
        let mut out = Vec::new();
        write_fixed(&mut out, x, decimals).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fixed_point_numbers_are_written_as_the_formatter_writes_them() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.125,
            0.375,
            123.125,
            0.0005,
            0.0015,
            0.9995,
            -0.004,
            -2.5,
            1499.995,
            55.005,
            1e9,
            -1e12,
            f32::MAX,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e-40,
        ];
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let unit = (seed >> 40) as f32 / (1u64 << 24) as f32;
            values.push(unit * 2000.0 - 100.0);
            values.push(unit);
        }
        for x in values {
            for d in [0u32, 1, 2, 3, 6] {
                assert_eq!(
                    fixed(x, d),
                    format!("{x:.*}", d as usize),
                    "{x} to {d} decimals"
                );
            }
        }
    }

    #[test]
    fn times_are_written_as_the_formatter_writes_their_seconds() {
        for n in (0..2_000_000u64)
            .step_by(7)
            .chain([16, 160, 16_000, 172_800_000])
        {
            let t = SampleTime(n);
            let mut out = Vec::new();
            write_secs_3(&mut out, t).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), format!("{:.3}", t.secs()));
        }
    }
}
