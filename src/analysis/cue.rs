//! The turn cue: whose turn it is now and how long the pause has been, from what has been
//! heard so far. The live window leads with it; any reader of a session's timeline can ask
//! the same question at any time of it. Pure: any thread (the live window's UI thread).

/// After this long without a sound the turn cue rests ("quiet") (s).
pub const QUIET_AFTER_SECS: f64 = 20.0;

/// The one cue the window leads with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TurnCue {
    /// Nothing heard yet.
    Waiting,
    /// Someone is vocalising (or has just paused, shorter than the pause threshold).
    Listening,
    /// The sound ended and a pause has opened: the partner's turn.
    YourTurn { pause_secs: f64 },
    /// A long silence: nothing to do but wait.
    Quiet { pause_secs: f64 },
    /// The partner holds the push-to-talk key: they are answering.
    Answering,
}

/// What the cue is read from, at one time of the session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Heard {
    /// Now (session s).
    pub now_secs: f64,
    /// The partner holds the push-to-talk key.
    pub partner_answering: bool,
    /// A sound is going on.
    pub vocalising: bool,
    /// When the last sound that was not the partner's ended (session s); `None` before any.
    pub last_end_secs: Option<f64>,
}

/// The cue at `heard.now_secs`, with `pause_threshold_secs` the pause that opens the partner's
/// turn: answering while the key is held, listening while a sound goes on or the pause is
/// shorter than the threshold, the partner's turn after it, quiet after [`QUIET_AFTER_SECS`].
pub fn turn_cue(heard: &Heard, pause_threshold_secs: f64) -> TurnCue {
    if heard.partner_answering {
        return TurnCue::Answering;
    }
    if heard.vocalising {
        return TurnCue::Listening;
    }
    let Some(last_end_secs) = heard.last_end_secs else {
        return TurnCue::Waiting;
    };
    let pause_secs = (heard.now_secs - last_end_secs).max(0.0);
    if pause_secs >= QUIET_AFTER_SECS {
        TurnCue::Quiet { pause_secs }
    } else if pause_secs >= pause_threshold_secs {
        TurnCue::YourTurn { pause_secs }
    } else {
        TurnCue::Listening
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(now_secs: f64, last_end_secs: Option<f64>) -> Heard {
        Heard {
            now_secs,
            partner_answering: false,
            vocalising: false,
            last_end_secs,
        }
    }

    #[test]
    fn a_pause_after_a_sound_opens_the_partners_turn_then_rests() {
        assert_eq!(turn_cue(&at(3.0, None), 1.0), TurnCue::Waiting);
        assert_eq!(turn_cue(&at(2.0, Some(1.5)), 1.0), TurnCue::Listening);
        assert_eq!(
            turn_cue(&at(3.0, Some(1.5)), 1.0),
            TurnCue::YourTurn { pause_secs: 1.5 }
        );
        assert!(matches!(
            turn_cue(&at(1.5 + QUIET_AFTER_SECS, Some(1.5)), 1.0),
            TurnCue::Quiet { .. }
        ));
    }

    #[test]
    fn a_sound_or_the_key_held_overrides_the_pause() {
        let mut heard = at(10.0, Some(1.5));
        heard.vocalising = true;
        assert_eq!(turn_cue(&heard, 1.0), TurnCue::Listening);
        heard.partner_answering = true;
        assert_eq!(turn_cue(&heard, 1.0), TurnCue::Answering);
    }
}
