//! Audio input: decoding files, capture devices and the callback that fills the capture ring,
//! and recordings played in real time as if they were a microphone.

pub mod capture;
pub mod decode;
pub mod device;
pub mod output;
pub mod player;
