//! Writing an ISF as `.json.xz` (one of the extensions Volatility 3 opens: `constants.ISF_EXTENSIONS`)
//! and reading one back.
//!
//! The JSON is compact, with sorted keys ([`crate::isf`]), and the xz stream comes from a
//! single-threaded encoder with a fixed preset and CRC64 check, so the same ISF always gives the
//! same bytes.

use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use lzma_rust2::{CheckType, XzOptions, XzReader, XzWriter};

use crate::Error;
use crate::isf::Isf;

/// The xz preset used. Measured on this host's kernel (18 MB of JSON, one core): preset 1 takes
/// 1.2 s for 1.96 MB and ~95 MiB peak for the whole build, xz's default 6 takes 14 s for 1.42 MB
/// and ~190 MiB. Half a megabyte is not worth ten times the time next to a memory image.
pub const XZ_PRESET: u32 = 1;

/// The ISF as JSON bytes (compact, sorted keys).
pub fn to_json(isf: &Isf) -> Vec<u8> {
    serde_json::to_vec(isf).expect("an ISF serializes")
}

/// Compresses bytes as one xz stream.
pub fn compress(data: &[u8], preset: u32) -> io::Result<Vec<u8>> {
    let mut options = XzOptions::with_preset(preset);
    options.set_check_sum_type(CheckType::Crc64);
    let mut w = XzWriter::new(Vec::with_capacity(data.len() / 8), options)?;
    w.write_all(data)?;
    w.finish()
}

/// Writes the ISF to `path` as `.json.xz` (through a temporary file in the same directory, so a
/// reader never sees half a file).
pub fn write_json_xz(isf: &Isf, path: &Path) -> Result<(), Error> {
    let io_err = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let xz = compress(&to_json(isf), XZ_PRESET).map_err(io_err)?;
    let tmp = path.with_extension("tmp");
    {
        let mut f = BufWriter::new(fs::File::create(&tmp).map_err(io_err)?);
        f.write_all(&xz).map_err(io_err)?;
        f.into_inner()
            .map_err(|e| io_err(e.into_error()))?
            .sync_all()
            .map_err(io_err)?;
    }
    fs::rename(&tmp, path).map_err(io_err)
}

/// Reads an ISF from `.json.xz` or plain `.json` (by the file's first bytes).
pub fn read(path: &Path) -> Result<Isf, Error> {
    let io_err = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut data = Vec::new();
    BufReader::new(fs::File::open(path).map_err(io_err)?)
        .read_to_end(&mut data)
        .map_err(io_err)?;
    let json = if data.starts_with(b"\xfd7zXZ\0") {
        let mut out = Vec::new();
        XzReader::new(&data[..], false)
            .read_to_end(&mut out)
            .map_err(io_err)?;
        out
    } else {
        data
    };
    serde_json::from_slice(&json).map_err(|e| Error::Input(format!("{}: {e}", path.display())))
}
