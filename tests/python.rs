//! The Python package (`python/`), built and installed as a user installs
//! it (`pip install ./python`, maturin building the Rust core), then its
//! pytest suite: `normalize`, `clean` and `dedupe` give what the command
//! line gives, on the sample and on a generated file, from Arrow, Parquet
//! and pandas; and `nayose.spark` on a real multi-process Spark (a
//! standalone master and two worker JVMs, `local-cluster[2,1,1024]`) gives
//! what the embedded jobs give.
//!
//! pyarrow, pandas, pytest, maturin and pyspark with its Spark Connect
//! client (PyPI, pinned) are installed into `target/python-venv`, and a JDK
//! (Debian's `openjdk-17-jre-headless`), when missing. Where that cannot be done the
//! test says so and passes as skipped — except under `CI=true`, where it
//! fails.

use crate::common::{apt_install, run, under_ci, Ready};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the package is tested with (pandas 2: PySpark 4.3 does not support
/// pandas 3 yet).
const PACKAGES: [&str; 5] = [
    "pyarrow==26.0.1",
    "pandas==2.3.3",
    "pytest==9.2.0",
    "maturin==1.16.0",
    // `connect`: the Spark Connect client (grpcio and its kin), for the
    // test of a Connect session.
    "pyspark[connect]==4.3.0",
];

/// Spark runs on this JVM.
const JAVA: &str = "/usr/bin/java";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn venv() -> PathBuf {
    root().join("target/python-venv")
}

/// The venv's PATH: maturin is called by pip's build hook by name.
fn path_with_venv() -> String {
    let mut path = venv().join("bin").into_os_string();
    if let Some(p) = std::env::var_os("PATH") {
        path.push(":");
        path.push(p);
    }
    path.into_string().unwrap_or_default()
}

/// The venv with the tools, and the package built from this tree in it.
fn ensure_package() -> Result<PathBuf, String> {
    let python = venv().join("bin/python");
    let ready: Ready = (|| {
        apt_install(&["openjdk-17-jre-headless"], Path::new(JAVA))?;
        if !python.exists() {
            eprintln!("python: creating {} …", venv().display());
            run(Command::new("python3").arg("-m").arg("venv").arg(venv()))?;
        }
        let pip = |args: &[&str]| {
            let mut c = Command::new(&python);
            c.args([
                "-m",
                "pip",
                "--disable-pip-version-check",
                "install",
                "--quiet",
            ])
            .args(args)
            .env("PATH", path_with_venv());
            c
        };
        let installed = ["maturin", "pytest", "pyspark"]
            .iter()
            .all(|b| venv().join("bin").join(b).exists())
            && Command::new(&python)
                .args(["-c", "import pyspark.sql.connect"])
                .status()
                .is_ok_and(|s| s.success());
        if !installed {
            run(&mut pip(&PACKAGES))?;
        }
        // As a user installs it: maturin builds the core in release.
        run(
            pip(&["--no-build-isolation", "--force-reinstall", "--no-deps"])
                .arg(root().join("python")),
        )
    })();
    ready.map(|()| python)
}

#[test]
fn python_package_agrees_with_the_command_line() {
    let python = match ensure_package() {
        Ok(p) => p,
        Err(why) if under_ci() => {
            panic!("the Python tests cannot run, and CI=true forbids skipping them: {why}")
        }
        Err(why) => {
            eprintln!("python: SKIPPED (set CI=true to make this a failure): {why}");
            return;
        }
    };
    let out = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(root().join("python/tests"))
        .env("NAYOSE_BIN", env!("CARGO_BIN_EXE_nayose"))
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .env("PATH", path_with_venv())
        .current_dir(root())
        .output()
        .expect("run pytest");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "pytest failed:\n{text}");
}
