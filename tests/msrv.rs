//! The workspace's `rust-version` is true for the committed `Cargo.lock`: no locked dependency
//! needs a newer Rust, and the README states the same version.

use std::process::Command;

use serde_json::Value;

/// `1.89` or `1.89.0` as (major, minor, patch).
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

/// This machine's target triple, from the rustc cargo uses.
fn host() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("-vV").output().expect("rustc runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

#[test]
fn rust_version_covers_every_locked_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // The host's packages only: `--offline` cannot resolve other platforms' crates unless they
    // happen to be downloaded.
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed (is Cargo.lock up to date?):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let packages = metadata["packages"].as_array().expect("packages");
    let rust_version = |p: &Value| p["rust_version"].as_str().map(str::to_owned);

    let ours: Vec<String> = packages
        .iter()
        .filter(|p| members.contains(&p["id"].as_str().unwrap_or_default()))
        .map(|p| rust_version(p).expect("every workspace member declares a rust-version"))
        .collect();
    assert!(!ours.is_empty(), "no workspace member found");
    let declared = ours.iter().map(|v| version(v)).min().unwrap_or_default();

    let too_new: Vec<String> = packages
        .iter()
        .filter(|p| !members.contains(&p["id"].as_str().unwrap_or_default()))
        .filter_map(|p| {
            let needs = rust_version(p)?;
            (version(&needs) > declared).then(|| {
                format!(
                    "{} {} needs {needs}",
                    p["name"].as_str().unwrap_or("?"),
                    p["version"].as_str().unwrap_or("?")
                )
            })
        })
        .collect();
    assert!(
        too_new.is_empty(),
        "rust-version {declared:?} is older than locked dependencies need: {too_new:?}"
    );

    let readme = include_str!("../README.md");
    let (major, minor, _) = declared;
    let stated = format!("Rust toolchain ({major}.{minor} or newer)");
    assert!(readme.contains(&stated), "the README says {stated:?}");
}
