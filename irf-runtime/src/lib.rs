//! The Lambda handlers the IRF templates reference.
//!
//! Every function runs the same `bootstrap` binary; `IRF_HANDLER` selects the handler
//! (see [`irf_core::handler::Handler`]). The handlers themselves land with the runtime issue.
