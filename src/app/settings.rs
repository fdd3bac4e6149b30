//! The window's settings, saved between runs as JSON in the user's config folder (owner-only).

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::AnalysisConfig;
use crate::live::InputChoice;
use crate::session::log::DEFAULT_MARKER_CODES;
use crate::session::writer::write_json;

/// Light or dark window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ThemeChoice {
    #[default]
    Dark,
    Light,
}

/// Colours of the cues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PaletteChoice {
    /// Soft teal and amber.
    #[default]
    Calm,
    /// Okabe-Ito colours, told apart with every common colour-vision deficiency.
    ColourBlindSafe,
}

/// Which input the window listens to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum DeviceSetting {
    /// The system's default input (the demo session when there is none).
    #[default]
    Default,
    /// A named input device.
    Named(String),
    /// The bundled demo session.
    Demo,
}

impl DeviceSetting {
    pub fn to_input(&self) -> InputChoice {
        match self {
            DeviceSetting::Default => InputChoice::Device { name: None },
            DeviceSetting::Named(n) => InputChoice::Device {
                name: Some(n.clone()),
            },
            DeviceSetting::Demo => InputChoice::Demo,
        }
    }

    pub fn label(&self) -> String {
        match self {
            DeviceSetting::Default => "Default input".into(),
            DeviceSetting::Named(n) => n.clone(),
            DeviceSetting::Demo => "Demo session".into(),
        }
    }
}

/// Everything the window remembers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The participant's pseudonym (never a real name), used for recorded sessions.
    pub participant: String,
    /// The person's pitch range: the analysis searches it and the ribbon shows it.
    pub f0_min_hz: f64,
    pub f0_max_hz: f64,
    /// Silence after the person's sound before "your turn" shows (s).
    #[serde(rename = "pause_s", alias = "pause_secs")]
    pub pause_secs: f64,
    pub device: DeviceSetting,
    /// Text and shape size (1 = normal).
    pub text_scale: f32,
    pub theme: ThemeChoice,
    pub palette: PaletteChoice,
    /// The observation codes keys 1–9 log (editable; at most `MAX_MARKER_CODES`).
    pub marker_codes: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        let c = AnalysisConfig::default();
        Self {
            participant: "participant".into(),
            f0_min_hz: c.f0_min_hz,
            f0_max_hz: c.f0_max_hz,
            pause_secs: 0.6,
            device: DeviceSetting::Default,
            text_scale: 1.0,
            theme: ThemeChoice::Dark,
            palette: PaletteChoice::Calm,
            marker_codes: DEFAULT_MARKER_CODES.iter().map(|c| c.to_string()).collect(),
        }
    }
}

/// Limits of the settings the window offers.
pub const TEXT_SCALE_RANGE: (f32, f32) = (0.75, 2.5);
pub const PAUSE_SECS_RANGE: (f64, f64) = (0.3, 10.0);
/// Keys 1–9 log the codes.
pub const MAX_MARKER_CODES: usize = 9;
/// Longest code kept (characters).
const MAX_CODE_CHARS: usize = 32;

impl Settings {
    /// The analysis settings for a live session with this person's range.
    pub fn analysis_config(&self) -> AnalysisConfig {
        AnalysisConfig {
            f0_min_hz: self.f0_min_hz,
            f0_max_hz: self.f0_max_hz,
            ..AnalysisConfig::live()
        }
    }

    /// Brings every value into its range (a hand-edited or old file never breaks the window).
    pub fn sanitised(mut self) -> Self {
        let d = Settings::default();
        let ok_range = self.f0_min_hz.is_finite()
            && self.f0_max_hz.is_finite()
            && self.analysis_config().validate().is_ok();
        if !ok_range {
            self.f0_min_hz = d.f0_min_hz;
            self.f0_max_hz = d.f0_max_hz;
        }
        if !self.pause_secs.is_finite() {
            self.pause_secs = d.pause_secs;
        }
        self.pause_secs = self
            .pause_secs
            .clamp(PAUSE_SECS_RANGE.0, PAUSE_SECS_RANGE.1);
        if !self.text_scale.is_finite() {
            self.text_scale = d.text_scale;
        }
        self.text_scale = self
            .text_scale
            .clamp(TEXT_SCALE_RANGE.0, TEXT_SCALE_RANGE.1);
        if self.participant.trim().is_empty() {
            self.participant = d.participant;
        }
        self.marker_codes = self
            .marker_codes
            .iter()
            .map(|c| c.trim().chars().take(MAX_CODE_CHARS).collect::<String>())
            .filter(|c| !c.is_empty())
            .take(MAX_MARKER_CODES)
            .collect();
        if self.marker_codes.is_empty() {
            self.marker_codes = d.marker_codes;
        }
        self
    }
}

/// Where the settings live.
#[derive(Debug, Clone)]
pub struct SettingsStore {
    path: Option<PathBuf>,
}

impl SettingsStore {
    /// `DIR/settings.json`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            path: Some(dir.join("settings.json")),
        }
    }

    /// The user's config folder (`$ATTUNE_CONFIG_DIR`, else e.g. `~/.config/attune`); when
    /// there is none, settings last for this run only.
    pub fn user() -> Self {
        if let Some(dir) = std::env::var_os("ATTUNE_CONFIG_DIR") {
            return Self::in_dir(Path::new(&dir));
        }
        Self {
            path: directories::ProjectDirs::from("", "", "attune")
                .map(|d| d.config_dir().join("settings.json")),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The saved settings, or the defaults when there are none or they cannot be read.
    pub fn load(&self) -> Settings {
        self.path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|s| serde_json::from_str::<Settings>(&s).ok())
            .unwrap_or_default()
            .sanitised()
    }

    /// Saves the settings (owner-only file). UI thread; small and quick.
    pub fn save(&self, settings: &Settings) -> io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if let Some(dir) = path.parent() {
            crate::output::create_private_dir_all(dir)?;
        }
        write_json(path, settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_bad_values_are_mended() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SettingsStore::in_dir(dir.path());
        assert_eq!(store.load(), Settings::default());
        let s = Settings {
            f0_min_hz: 150.0,
            f0_max_hz: 900.0,
            device: DeviceSetting::Named("USB mic".into()),
            palette: PaletteChoice::ColourBlindSafe,
            ..Settings::default()
        };
        store.save(&s).expect("save");
        assert_eq!(store.load(), s);
        std::fs::write(
            dir.path().join("settings.json"),
            r#"{"f0_min_hz": 900, "f0_max_hz": 100, "text_scale": 40}"#,
        )
        .expect("write");
        let mended = store.load();
        assert_eq!(mended.f0_min_hz, Settings::default().f0_min_hz);
        assert_eq!(mended.text_scale, TEXT_SCALE_RANGE.1);
    }
}
