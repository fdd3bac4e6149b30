//! Audio input: decoding files into mono blocks at their own sample rate.

pub mod decode;
