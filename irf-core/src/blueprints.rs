//! Scripts and documents that run on instances, rendered from the `blueprints/` handlebars
//! templates with typed contexts.
//!
//! Rendering is strict (a missing variable is an error, never an empty string) and does no HTML
//! escaping. Every rendered script must pass shellcheck; the test suite checks each one.

use std::sync::LazyLock;

use handlebars::Handlebars;
use serde::Serialize;

/// A blueprint: its name and embedded source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blueprint {
    /// Path under `blueprints/`.
    pub name: &'static str,
    source: &'static str,
}

macro_rules! blueprint {
    ($name:literal) => {
        Blueprint {
            name: $name,
            source: include_str!(concat!("../../blueprints/", $name)),
        }
    };
}

/// Installs SIFT with a checksum-verified `cast` (Image Builder build phase).
pub const INSTALL_SIFT: Blueprint = blueprint!("imagebuilder/install-sift.sh.hbs");
/// Checks the SIFT tools are present (Image Builder validate phase).
pub const VALIDATE_SIFT: Blueprint = blueprint!("imagebuilder/validate-sift.sh.hbs");
/// Module-factory builder user data.
pub const BUILD_LIME: Blueprint = blueprint!("module-factory/build-lime.sh.hbs");
/// One kernel's LiME module and ISF (the builder runs it per kernel; so do the real-kernel
/// tests). It takes no variables: everything is an argument.
pub const BUILD_KERNEL: Blueprint = blueprint!("module-factory/build-kernel.sh.hbs");
/// Memory-acquisition preflight (SSM).
pub const MEMORY_PREFLIGHT: Blueprint = blueprint!("ssm/memory-preflight.sh.hbs");
/// Memory capture (SSM).
pub const MEMORY_CAPTURE: Blueprint = blueprint!("ssm/memory-capture.sh.hbs");

/// Every blueprint, for tests.
pub const ALL: &[Blueprint] = &[
    INSTALL_SIFT,
    VALIDATE_SIFT,
    BUILD_LIME,
    BUILD_KERNEL,
    MEMORY_PREFLIGHT,
    MEMORY_CAPTURE,
];

/// A blueprint failed to render.
#[derive(Debug, thiserror::Error)]
#[error("blueprint {name}: {source}")]
pub struct RenderError {
    name: &'static str,
    #[source]
    source: Box<handlebars::RenderError>,
}

static ENGINE: LazyLock<Handlebars<'static>> = LazyLock::new(|| {
    let mut h = Handlebars::new();
    h.set_strict_mode(true);
    h.register_escape_fn(handlebars::no_escape);
    h
});

impl Blueprint {
    /// Renders the blueprint with `context`.
    pub fn render<C: Serialize>(&self, context: &C) -> Result<String, RenderError> {
        ENGINE
            .render_template(self.source, context)
            .map_err(|e| RenderError {
                name: self.name,
                source: Box::new(e),
            })
    }
}

/// Context of [`INSTALL_SIFT`].
#[derive(Clone, Debug, Serialize)]
pub struct SiftContext<'a> {
    /// `cast` release tag.
    pub cast_version: &'a str,
    /// Pinned SHA-256 of the `.deb`.
    pub cast_sha256: &'a str,
}

/// Context of [`VALIDATE_SIFT`].
#[derive(Clone, Debug, Serialize)]
pub struct SiftToolsContext<'a> {
    /// Commands that must exist on the image.
    pub tools: &'a [&'a str],
}

/// Context of [`BUILD_LIME`].
#[derive(Clone, Debug, Serialize)]
pub struct FactoryContext<'a> {
    /// Name of the memory-modules bucket the builder uploads modules and manifests to.
    pub bucket: &'a str,
    /// Region of that bucket (`aws s3 cp --region`).
    pub region: &'a str,
    /// LiME git repository.
    pub lime_repo: &'a str,
    /// Pinned LiME commit (prefix accepted).
    pub lime_commit: &'a str,
    /// How many kernels of the stream to build for (the booted one first, then the newest).
    pub kernels: u32,
    /// The rendered [`BUILD_KERNEL`] script, which the user data writes out and runs.
    pub build_kernel: &'a str,
}

/// The rendered [`BUILD_KERNEL`] script.
pub fn build_kernel_script() -> String {
    BUILD_KERNEL
        .render(&serde_json::Map::new())
        .expect("the build-kernel blueprint takes no variables")
}

/// Context of [`MEMORY_CAPTURE`].
#[derive(Clone, Debug, Serialize)]
pub struct CaptureContext<'a> {
    /// File name of the staged streamer binary.
    pub tool_name: &'a str,
    /// Loopback port LiME listens on.
    pub lime_port: u16,
}

/// Context of blueprints that take no variables.
#[derive(Clone, Debug, Serialize)]
pub struct NoContext {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_rendering_rejects_missing_variables() {
        let err = INSTALL_SIFT.render(&NoContext {}).unwrap_err();
        assert!(
            err.to_string().contains("imagebuilder/install-sift.sh.hbs"),
            "{err}"
        );
    }

    #[test]
    fn values_are_not_html_escaped() {
        let out = BUILD_LIME
            .render(&FactoryContext {
                bucket: "b",
                region: "r",
                lime_repo: "https://example.com/a&b",
                lime_commit: "c",
                kernels: 3,
                build_kernel: &super::build_kernel_script(),
            })
            .unwrap();
        assert!(out.contains("LIME_REPO=\"https://example.com/a&b\""));
    }
}
