//! Evidence hashing: SHA-256 and MD5 computed in order over a stream, whose state can be saved
//! between Lambda invocations (a large volume is imaged over many), plus base64 helpers.

use md5::Md5;
use sha2::Digest;
use sha2::Sha256;
use sha2::digest::common::hazmat::SerializableState;

use crate::error::{HandlerError, Result};

/// Standard base64 of `bytes`.
pub fn b64(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(bytes)
}

/// Decodes standard base64.
pub fn from_b64(text: &str) -> Result<Vec<u8>> {
    aws_smithy_types::base64::decode(text)
        .map_err(|e| HandlerError::fatal(format!("invalid base64: {e}")))
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// MD5 of `bytes`.
pub fn md5(bytes: &[u8]) -> [u8; 16] {
    Md5::digest(bytes).into()
}

/// SHA-256 and MD5 of one stream, in order.
#[derive(Debug, Clone, Default)]
pub struct StreamHashes {
    sha256: Sha256,
    md5: Md5,
}

/// The final digests of a stream.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Digests {
    /// SHA-256, hex.
    pub sha256: String,
    /// MD5, hex.
    pub md5: String,
}

impl StreamHashes {
    /// Feeds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        self.md5.update(bytes);
    }

    /// Feeds the next bytes, SHA-256 and MD5 on two threads.
    pub fn update_parallel(&mut self, bytes: &[u8]) {
        let StreamHashes { sha256, md5 } = self;
        std::thread::scope(|s| {
            s.spawn(|| sha256.update(bytes));
            md5.update(bytes);
        });
    }

    /// The digests of everything fed.
    pub fn finish(self) -> Digests {
        Digests {
            sha256: hex::encode(self.sha256.finalize()),
            md5: hex::encode(self.md5.finalize()),
        }
    }

    /// The state, to resume in another process (base64 of both hashers' states).
    pub fn save(&self) -> String {
        let mut state = self.sha256.serialize().to_vec();
        state.extend_from_slice(&self.md5.serialize());
        b64(&state)
    }

    /// Resumes from [`StreamHashes::save`].
    pub fn restore(saved: &str) -> Result<Self> {
        let bytes = from_b64(saved)?;
        let bad = || HandlerError::fatal("saved hash state is corrupt");
        let split = bytes.len().checked_sub(md5_state_len()).ok_or_else(bad)?;
        let (s, m) = bytes.split_at(split);
        Ok(StreamHashes {
            sha256: Sha256::deserialize(s.try_into().map_err(|_| bad())?).map_err(|_| bad())?,
            md5: Md5::deserialize(m.try_into().map_err(|_| bad())?).map_err(|_| bad())?,
        })
    }
}

fn md5_state_len() -> usize {
    Md5::default().serialize().len()
}

/// A SHA-256 of a sequence of items (the composite checksum S3 keeps for multipart uploads is
/// the SHA-256 of the parts' binary SHA-256s), resumable like [`StreamHashes`].
#[derive(Debug, Clone, Default)]
pub struct Sha256State(Sha256);

impl Sha256State {
    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }

    /// Saved state (base64).
    pub fn save(&self) -> String {
        b64(&self.0.serialize())
    }

    /// Resumes from [`Sha256State::save`].
    pub fn restore(saved: &str) -> Result<Self> {
        let bytes = from_b64(saved)?;
        let bad = || HandlerError::fatal("saved hash state is corrupt");
        Ok(Sha256State(
            Sha256::deserialize(bytes.as_slice().try_into().map_err(|_| bad())?)
                .map_err(|_| bad())?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_resume_across_processes() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut whole = StreamHashes::default();
        whole.update(&data);
        let mut first = StreamHashes::default();
        first.update(&data[..77_777]);
        let mut resumed = StreamHashes::restore(&first.save()).unwrap();
        resumed.update(&data[77_777..]);
        assert_eq!(resumed.finish(), whole.finish());
        assert_eq!(
            StreamHashes::default().finish().sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            StreamHashes::default().finish().md5,
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert!(StreamHashes::restore("AAAA").is_err());
    }
}
