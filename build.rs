//! Builds the sealed init program (a static, stripped `runc-init`) that the
//! library embeds, and generates the C header with cbindgen.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    build_init(&out, &root);
    generate_header(&out, &root);
    // The ABI major version lives in the SONAME. (The installed librunc.so.1
    // is relinked by the Makefile from librunc.a with src/capi/version.map,
    // since rustc's own export list would drop the version node.)
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librunc.so.1");
}

/// A nested cargo build into its own target dir: static glibc, panic=abort,
/// size-optimised, so that one small exec is all a container start costs.
fn build_init(out: &Path, root: &Path) {
    for p in ["init/src", "init/Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    let target = init_target(&env::var("TARGET").unwrap());
    // Extra rustc flags for the init, space-separated (bench/footprint.sh
    // builds it non-PIE, at an address of its own, with its symbols).
    println!("cargo:rerun-if-env-changed=RUNC_INIT_RUSTFLAGS");
    let mut flags = String::from("-Ctarget-feature=+crt-static");
    if let Ok(extra) = env::var("RUNC_INIT_RUSTFLAGS") {
        flags.extend(extra.split_whitespace().map(|f| format!("\x1f{f}")));
    }
    let target_dir = out.join("init-target");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--bin", "runc-init", "--target", &target])
        .arg("--manifest-path")
        .arg(root.join("init/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env("CARGO_ENCODED_RUSTFLAGS", flags)
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "s")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .status()
        .expect("run cargo for runc-init");
    assert!(status.success(), "building runc-init failed");
    let bin = target_dir.join(&target).join("release/runc-init");
    std::fs::copy(&bin, out.join("runc-init")).expect("copy runc-init");
    // Names the on-disk cache of this exact init (FNV-1a; not a security check).
    let bytes = std::fs::read(&bin).expect("read runc-init");
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ *b as u64).wrapping_mul(0x100_0000_01b3));
    println!("cargo:rustc-env=RUNC_INIT_HASH={hash:016x}-{}", bytes.len());
}

/// The init is built for musl when that Rust target is installed (`rustup
/// target add x86_64-unknown-linux-musl`): musl starts in microseconds, while
/// static glibc probes the CPU's caches with dozens of CPUID instructions,
/// each a costly exit on virtual machines. Otherwise static glibc.
/// `RUNC_INIT_TARGET` overrides the choice.
fn init_target(host: &str) -> String {
    println!("cargo:rerun-if-env-changed=RUNC_INIT_TARGET");
    if let Ok(t) = env::var("RUNC_INIT_TARGET") {
        return t;
    }
    let musl = host.replace("-gnu", "-musl");
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let libdir = Command::new(rustc).args(["--print", "target-libdir", "--target", &musl]).output();
    let installed = libdir.ok().filter(|o| o.status.success()).is_some_and(|o| {
        let dir = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
        std::fs::read_dir(dir).is_ok_and(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
    });
    if host.ends_with("-linux-gnu") && installed {
        musl
    } else {
        host.to_string()
    }
}

fn generate_header(out: &Path, root: &Path) {
    println!("cargo:rerun-if-changed={}", root.join("src/capi").display());
    println!("cargo:rerun-if-changed={}", root.join("cbindgen.toml").display());
    let cfg = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("read cbindgen.toml");
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(cfg)
        .generate()
        .expect("generate runc.h")
        .write_to_file(out.join("runc.h"));
    // `make header` / `make check-header` name where the header should go.
    println!("cargo:rerun-if-env-changed=RUNC_HEADER_OUT");
    if let Ok(dest) = env::var("RUNC_HEADER_OUT") {
        std::fs::copy(out.join("runc.h"), dest).expect("write RUNC_HEADER_OUT");
    }
}
