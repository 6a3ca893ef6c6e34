//! Collects a symbol bundle from this host, or builds the ISF of one, timing each step.
//!
//! ```text
//! build_isf collect DIR                         # this host's bundle into DIR (run as root)
//! build_isf build DIR OUT.json.xz [--lenient] [--preset N]   # the ISF of the bundle in DIR
//! ```
//!
//! `--lenient` writes an ISF even when Volatility could not use it (what is missing is in the
//! producer notes), for kernels built without `CONFIG_KALLSYMS_ALL`. `--preset` compresses with
//! another xz preset than the library's (to measure the trade-off).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use irf_isf::{Bundle, Options, Sources, build_with, collect, xz};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["collect", dir] => collect(&PathBuf::from(dir), &Sources::live())
            .map(|m| eprintln!("collected {} files into {dir}", m.files.len()))
            .map_err(|e| e.to_string()),
        ["build", dir, out, ref rest @ ..] => {
            let preset = rest
                .iter()
                .position(|a| *a == "--preset")
                .and_then(|i| rest.get(i + 1)?.parse().ok())
                .unwrap_or(xz::XZ_PRESET);
            run_build(dir, out, rest.contains(&"--lenient"), preset)
        }
        _ => {
            Err("usage: build_isf collect DIR | build_isf build DIR OUT.json.xz [--lenient]".into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("build_isf: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_build(dir: &str, out: &str, lenient: bool, preset: u32) -> Result<(), String> {
    let t0 = Instant::now();
    let bundle = Bundle::load(&PathBuf::from(dir)).map_err(|e| e.to_string())?;
    let t1 = Instant::now();
    let isf = build_with(&bundle, &Options { strict: !lenient }).map_err(|e| e.to_string())?;
    let t2 = Instant::now();
    let json = xz::to_json(&isf);
    let t3 = Instant::now();
    let compressed = xz::compress(&json, preset).map_err(|e| e.to_string())?;
    let t4 = Instant::now();
    std::fs::write(out, &compressed).map_err(|e| format!("{out}: {e}"))?;
    eprintln!(
        "load {:.3} s, build {:.3} s, json {:.3} s ({} bytes), xz -{preset} {:.3} s ({} bytes); {} user types, {} enums, {} base types, {} symbols, {} notes",
        (t1 - t0).as_secs_f64(),
        (t2 - t1).as_secs_f64(),
        (t3 - t2).as_secs_f64(),
        json.len(),
        (t4 - t3).as_secs_f64(),
        compressed.len(),
        isf.user_types.len(),
        isf.enums.len(),
        isf.base_types.len(),
        isf.symbols.len(),
        isf.metadata.producer.irf.notes.len(),
    );
    for note in &isf.metadata.producer.irf.notes {
        eprintln!("note: {note}");
    }
    Ok(())
}
