//! The partner's voice enrolment, recorded in the window's settings: 10 s of the live input,
//! kept as `partner-voice.wav` beside the settings (owner-only) and learned as a voice model
//! so that the window tells the partner's vocalisations from the person's by voice.
//!
//! The input is taken by the analysis thread ([`crate::live::LivePipeline::record_enrolment`]);
//! writing the clip and training the model run on an "enrol" thread; the UI thread only polls.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{bounded, Receiver};

use crate::config::AnalysisConfig;
use crate::driver::files::load_voice;
use crate::live::voices::VoiceModels;
use crate::output::create_private;

/// How long the partner speaks and vocalises for the enrolment (s).
pub const ENROL_SECS: f64 = 10.0;
/// The clip's name beside the settings (and in each session folder recorded with it).
pub const VOICE_FILE: &str = crate::session::folder::PARTNER_VOICE_FILE;

/// Where the enrolment is, is being recorded, or is being learned. UI thread.
#[derive(Default)]
pub struct Enrolment {
    /// The clip beside the settings, if the settings have a folder.
    pub path: Option<PathBuf>,
    /// Recording the input since then.
    pub recording_since: Option<Instant>,
    learning: Option<Receiver<Result<VoiceModels, String>>>,
    /// The latest outcome, in plain words (and whether it is a problem).
    pub notice: Option<(String, bool)>,
}

/// Learns the voice model of a clip. Any thread.
pub fn learn(path: &Path) -> Result<VoiceModels, String> {
    let partner = load_voice(path, &AnalysisConfig::live()).map_err(|e| e.to_string())?;
    Ok(VoiceModels {
        partner,
        user: None,
    })
}

fn write_clip(path: &Path, rate_hz: u32, samples: &[f32]) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate_hz,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let file = create_private(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut w =
        hound::WavWriter::new(std::io::BufWriter::new(file), spec).map_err(|e| e.to_string())?;
    for &x in samples {
        w.write_sample((x.clamp(-1.0, 1.0) * 32767.0).round() as i16)
            .map_err(|e| e.to_string())?;
    }
    w.finalize().map_err(|e| e.to_string())
}

impl Enrolment {
    pub fn new(settings_path: Option<&Path>) -> Self {
        Self {
            path: settings_path
                .and_then(Path::parent)
                .map(|d| d.join(VOICE_FILE)),
            ..Self::default()
        }
    }

    /// Whether a clip is kept.
    pub fn enrolled(&self) -> bool {
        self.path.as_ref().is_some_and(|p| p.is_file())
    }

    /// Seconds still to record, while recording.
    pub fn secs_left(&self) -> Option<f64> {
        self.recording_since
            .map(|t| (ENROL_SECS - t.elapsed().as_secs_f64()).max(0.0))
    }

    pub fn learning(&self) -> bool {
        self.learning.is_some()
    }

    /// The input arrived: write the clip and learn it on an "enrol" thread.
    pub fn take_input(&mut self, rate_hz: u32, samples: Vec<f32>, ctx: &egui::Context) {
        self.recording_since = None;
        let Some(path) = self.path.clone() else {
            self.notice = Some((
                "There is no settings folder to keep your voice in".into(),
                true,
            ));
            return;
        };
        let (tx, rx) = bounded(1);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("enrol".into())
            .spawn(move || {
                let tmp = path.with_extension("wav.partial");
                let result = write_clip(&tmp, rate_hz, &samples)
                    .and_then(|()| learn(&tmp))
                    .and_then(|m| {
                        std::fs::rename(&tmp, &path).map_err(|e| e.to_string())?;
                        Ok(m)
                    });
                if result.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
                let _ = tx.send(result);
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => self.learning = Some(rx),
            Err(e) => self.notice = Some((format!("Cannot learn your voice: {e}"), true)),
        }
    }

    /// The learned models, once the "enrol" thread is done.
    pub fn poll(&mut self) -> Option<Arc<VoiceModels>> {
        if self
            .recording_since
            .is_some_and(|t| t.elapsed().as_secs_f64() > ENROL_SECS + 5.0)
        {
            // The input stopped (device lost) or the clip was dropped on the way.
            self.recording_since = None;
            self.notice = Some((
                "Your voice was not recorded: the input did not deliver. Try again".into(),
                true,
            ));
        }
        let result = self.learning.as_ref()?.try_recv().ok()?;
        self.learning = None;
        match result {
            Ok(m) => {
                self.notice = Some((
                    "Your voice is enrolled: your sounds are now told from the person's".into(),
                    false,
                ));
                Some(Arc::new(m))
            }
            Err(e) => {
                self.notice = Some((
                    format!("Your voice could not be learned ({e}). Speak and vocalise for the whole 10 s, then try again"),
                    true,
                ));
                None
            }
        }
    }

    /// Removes the kept clip.
    pub fn forget(&mut self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
        self.notice = Some(("Your voice enrolment is removed".into(), false));
    }
}
