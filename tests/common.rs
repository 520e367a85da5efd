//! Helpers shared by the integration-test modules.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// Run the real `nayose` binary.
pub fn nayose(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nayose"))
        .args(args)
        .output()
        .unwrap()
}

/// Whether this is a CI run (`CI=true`): there, a test whose tools are
/// missing fails instead of skipping.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `Err(why)` when a prerequisite is missing and cannot be installed.
pub type Ready = Result<(), String>;

/// Run a command to its end; `Err` with the end of its output if it failed.
pub fn run(cmd: &mut Command) -> Ready {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{shown}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let tail =
            |b: &[u8]| String::from_utf8_lossy(&b[b.len().saturating_sub(2000)..]).to_string();
        Err(format!(
            "{shown}: {}\n{}{}",
            out.status,
            tail(&out.stdout),
            tail(&out.stderr)
        ))
    }
}

/// Install Debian packages with apt-get (updating the package lists first
/// when the install fails: a fresh machine may have none); `Ok` once
/// `provides` exists.
pub fn apt_install(packages: &[&str], provides: &Path) -> Ready {
    if provides.exists() {
        return Ok(());
    }
    eprintln!(
        "{} is missing; installing {} with apt-get …",
        provides.display(),
        packages.join(" ")
    );
    let apt = |args: &[&str]| {
        run(Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    let mut install = vec!["install", "-y", "-q"];
    install.extend_from_slice(packages);
    apt(&install)
        .or_else(|_| apt(&["update", "-q"]).and_then(|_| apt(&install)))
        .and_then(|_| {
            provides.exists().then_some(()).ok_or_else(|| {
                format!(
                    "apt-get installed {} but {} is missing",
                    packages.join(" "),
                    provides.display()
                )
            })
        })
}

/// Kills the server when the test ends, however it ends.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `serve --demo` on port 0 (its log in `log`) and read its admin
/// token and address from stdout.
pub fn start_demo_server(data: &Path, log: &Path) -> (Server, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nayose"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env_remove("NAYOSE_ADMIN_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let (mut admin, mut base) = (None, None);
    while base.is_none() {
        let Some(Ok(line)) = lines.next() else {
            panic!(
                "the server stopped before listening:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        };
        if let Some(t) = line.strip_prefix("demo admin token: ") {
            admin = Some(t.trim().to_string());
        } else if let Some(a) = line.strip_prefix("listening on ") {
            base = Some(a.trim().to_string());
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (server, base.unwrap(), admin.expect("demo admin token"))
}

/// Run the real `nayose` binary and measure it: its output and its peak
/// resident memory in KiB (`wait4` on this child alone, so other tests'
/// processes do not count).
// The child is reaped by `wait4`, which clippy does not know of.
#[allow(clippy::zombie_processes)]
pub fn nayose_measured(args: &[&str]) -> (Output, u64) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_nayose"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let mut status = 0;
    // SAFETY: wait4 on our own child's pid, with valid pointers to locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    use std::os::unix::process::ExitStatusExt;
    let output = Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (output, usage.ru_maxrss as u64)
}

/// A real workbook (every part Excel writes) whose one sheet holds, after a
/// header cell, one cell of 100 MB of the same letter: about 100 KB zipped.
pub fn xlsx_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ];
    for (name, body) in parts {
        zip.start_file(name, opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    zip.write_all(
        br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>"#,
    )
    .unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..100 {
        zip.write_all(&chunk).unwrap();
    }
    zip.write_all(b"</t></is></c></row></sheetData></worksheet>")
        .unwrap();
    zip.finish().unwrap().into_inner()
}

/// Start `nayose serve` on port 0 over `data` with the bootstrap admin
/// `token` and the `extra` arguments; the child and its address
/// (`http://127.0.0.1:…`), read from its first line.
pub fn spawn_serve(data: &Path, token: &str, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nayose"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(extra)
        .env("NAYOSE_ADMIN_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    (child, base)
}

/// Wait for a child to end, killing it after `limit`.
pub fn wait_at_most(child: &mut Child, limit: std::time::Duration) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            return child.wait().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
