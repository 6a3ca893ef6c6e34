//! Digests: SHA-256 and MD5 of the whole image (in stream order), MD5 of each part (S3's
//! `Content-MD5`), and their base64 rendering.
//!
//! SHA-256 uses the `sha2` crate, which picks the CPU's SHA extensions at run time (x86_64 SHA-NI,
//! aarch64 SHA2) and falls back to portable code; MD5 (`md-5`) is portable code only, so MD5 is the
//! slower of the two. Every image byte goes through three digests: image SHA-256, image MD5 and the
//! part's MD5; [`crate::stream`] runs them on separate threads while the main thread reads.

use base64::Engine as _;
use md5::{Digest as _, Md5};
use sha2::Sha256;

/// Running SHA-256 and MD5 of the whole image.
#[derive(Debug, Clone, Default)]
pub struct ImageHasher {
    /// SHA-256 of the bytes so far.
    pub sha256: Sha256,
    /// MD5 of the bytes so far.
    pub md5: Md5,
}

/// The final digests of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageDigests {
    /// SHA-256 of the image.
    pub sha256: [u8; 32],
    /// MD5 of the image.
    pub md5: [u8; 16],
}

impl ImageHasher {
    /// Hashers at the start of an image.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes to both digests on the calling thread.
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        self.md5.update(bytes);
    }

    /// The digests of everything fed so far.
    pub fn finish(self) -> ImageDigests {
        ImageDigests {
            sha256: self.sha256.finalize().into(),
            md5: self.md5.finalize().into(),
        }
    }
}

/// SHA-256 of `bytes` (single-threaded).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// MD5 of `bytes` (single-threaded).
pub fn md5(bytes: &[u8]) -> [u8; 16] {
    Md5::digest(bytes).into()
}

/// Standard padded base64 of `bytes`, as `Content-MD5` wants it.
pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hex::encode(md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        // RFC 1864's Content-MD5 is base64 of the 16 raw digest bytes.
        assert_eq!(base64(&md5(b"")), "1B2M2Y8AsgTpgAmY7PhCfg==");
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut h = ImageHasher::new();
        for chunk in data.chunks(4099) {
            h.update(chunk);
        }
        let d = h.finish();
        assert_eq!(d.sha256, sha256(&data));
        assert_eq!(d.md5, md5(&data));
    }
}
