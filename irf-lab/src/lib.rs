//! The local lab: stand-ins for what the local AWS emulator cannot do, used by the end-to-end
//! tests and by the demo's case walk (`irf-lab case`). Each says what it stands in for:
//!
//! - [`guest::GuestSsm`]: SSM Run Command, played by a real Linux guest per command (QEMU, the
//!   kit of `scripts/guest-kit`), running the rendered documents under bash.
//! - [`egress::EgressProxy`]: the guest's only way out, to the emulator's address alone.
//! - [`blocks::FileBlocks`]: the EBS direct APIs on EC2-made snapshots (the emulator's answer
//!   is a 500), serving a local raw image.
//! - [`case`]: the case workflow run locally with the deployed functions' environments, since
//!   the emulator runs neither Lambda code nor the deployed state machine; the disk steps'
//!   security side runs in the member account, since the emulator hides shared snapshots from
//!   other accounts, and the custody ledger is signed through the key's own account, since the
//!   emulator does not resolve another account's key ARN.

pub mod blocks;
pub mod case;
pub mod egress;
pub mod guest;
