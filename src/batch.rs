//! Runs over many problems and what is measured on them. So far: scoring tree files.

pub mod score;
