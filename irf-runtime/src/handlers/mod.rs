//! One module per handler.

pub mod case_record;
pub mod disk_imaging;
pub mod disk_snapshot;
pub mod member_tag;
pub mod memory_acquisition;
pub mod module_factory;
pub mod notify;
pub mod securityhub;
pub mod trigger;
