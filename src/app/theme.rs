//! Colours and sizes of the window: calm, high-contrast shapes, one accent at a time.

use egui::Color32;

use super::settings::{PaletteChoice, ThemeChoice};

/// The colours every view draws with.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    /// The person's sound now.
    pub voice: Color32,
    /// Earlier sounds on the ribbon.
    pub voice_past: Color32,
    /// "Your turn".
    pub turn: Color32,
    /// The partner's sounds on the ribbon (the turn colour, quieter).
    pub partner_voice: Color32,
    /// Beats (syllable onsets).
    pub beat: Color32,
    /// Quiet text, grid lines.
    pub muted: Color32,
    pub grid: Color32,
    /// Something needs attention (device lost, recording stopped).
    pub warning: Color32,
    pub text: Color32,
    pub card_bg: Color32,
}

impl Palette {
    pub fn new(theme: ThemeChoice, palette: PaletteChoice) -> Self {
        let dark = theme == ThemeChoice::Dark;
        let (voice, turn, beat, warning) = match palette {
            // Teal voice, warm amber turn.
            PaletteChoice::Calm => (
                Color32::from_rgb(64, 196, 190),
                Color32::from_rgb(240, 176, 80),
                Color32::from_rgb(150, 170, 240),
                Color32::from_rgb(230, 110, 90),
            ),
            // Okabe-Ito: sky blue, orange, bluish green, vermillion.
            PaletteChoice::ColourBlindSafe => (
                Color32::from_rgb(86, 180, 233),
                Color32::from_rgb(230, 159, 0),
                Color32::from_rgb(0, 158, 115),
                Color32::from_rgb(213, 94, 0),
            ),
        };
        let (voice, turn, beat) = if dark {
            (voice, turn, beat)
        } else {
            (darken(voice), darken(turn), darken(beat))
        };
        let background = if dark {
            Color32::from_gray(12)
        } else {
            Color32::from_gray(248)
        };
        Self {
            voice,
            // Opaque, so overlapping pieces of the ribbon do not show their seams.
            voice_past: mix(voice, background, 0.5),
            turn,
            partner_voice: mix(turn, background, 0.45),
            beat,
            muted: if dark {
                Color32::from_gray(140)
            } else {
                Color32::from_gray(100)
            },
            grid: if dark {
                Color32::from_gray(55)
            } else {
                Color32::from_gray(215)
            },
            warning,
            text: if dark {
                Color32::from_gray(230)
            } else {
                Color32::from_gray(25)
            },
            card_bg: if dark {
                Color32::from_gray(30)
            } else {
                Color32::from_gray(242)
            },
        }
    }
}

fn darken(c: Color32) -> Color32 {
    let f = |x: u8| (f32::from(x) * 0.72) as u8;
    Color32::from_rgb(f(c.r()), f(c.g()), f(c.b()))
}

/// `a` mixed with `b`, `t` of the way to `b`; opaque.
fn mix(a: Color32, b: Color32, t: f32) -> Color32 {
    let m = |x: u8, y: u8| (f32::from(x) * (1.0 - t) + f32::from(y) * t).round() as u8;
    Color32::from_rgb(m(a.r(), b.r()), m(a.g(), b.g()), m(a.b(), b.b()))
}
