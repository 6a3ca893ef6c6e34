//! Digests: the SHA-256 of the whole image (in stream order), the only digest the suspect host
//! computes.
//!
//! `sha2` picks the CPU's SHA extensions at run time (x86_64 SHA-NI, aarch64 SHA2) and falls back
//! to portable code. The MD5 that sidecars and older tools want is computed by the Lambda while it
//! re-reads the stored image to verify it, not here: every cycle spent on the compromised host
//! is a cycle its memory keeps changing in. Parts travel over TLS (presigned HTTPS URLs), and the
//! verification compares the stored object's SHA-256 with this one, so a part damaged in transit
//! cannot go unnoticed.

use sha2::{Digest as _, Sha256};

/// Running SHA-256 of the whole image.
#[derive(Debug, Clone, Default)]
pub struct ImageHasher {
    /// SHA-256 of the bytes so far.
    pub sha256: Sha256,
}

/// The final digests of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageDigests {
    /// SHA-256 of the image.
    pub sha256: [u8; 32],
}

impl ImageHasher {
    /// Hashers at the start of an image.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes on the calling thread.
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
    }

    /// The digests of everything fed so far.
    pub fn finish(self) -> ImageDigests {
        ImageDigests {
            sha256: self.sha256.finalize().into(),
        }
    }
}

/// SHA-256 of `bytes` (single-threaded).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut h = ImageHasher::new();
        for chunk in data.chunks(4099) {
            h.update(chunk);
        }
        assert_eq!(h.finish().sha256, sha256(&data));
    }
}
