//! The `guildhall` binary's library half: its commands and the assembly of services into a
//! running process, shared by the binary, the integration tests and the benchmarks.

pub mod cli;
pub mod commands;
pub mod platform;
pub mod secrets;
pub mod service;
pub mod services;
pub mod shutdown;
pub mod terminal;
