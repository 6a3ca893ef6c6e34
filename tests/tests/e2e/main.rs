//! The end-to-end suite, as one test binary with one module per area (the layout of cargo's own
//! `tests/testsuite`): every module links the AWS SDK, and one binary links it once.
//!
//! Emulator-backed tests need `scripts/emulator run -- ...` (or `scripts/test`); with
//! `IRF_REQUIRE_EMULATOR=1` they fail rather than skip when it is missing.

mod common;

mod deploy;
mod disk;
mod evidence;
mod factory_kernel;
mod guard;
mod guest;
mod guest_capture;
mod lab;
mod memory;
mod modules;
mod runtime;
mod toolchain;
mod workflows;
