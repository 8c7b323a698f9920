//! Report files and the directories made for them follow the umask (0666 & !umask,
//! 0777 & !umask), so a CI uploader or a web server running as another user can read them.
//! Its own test binary: the umask is process-wide, and the one test here sets it.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use workflow_harness::RunReport;
use workflow_harness::report::{ReportFormat, write_fragment, write_reports};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn set_umask(mask: libc::mode_t) {
    // SAFETY: umask only swaps the process's file-creation mask; this binary's only test is
    // the one thread creating files while it changes.
    unsafe { libc::umask(mask) };
}

#[test]
fn files_and_directories_follow_the_umask() {
    let root = tempfile::tempdir().unwrap();
    let mut report = RunReport::new(Vec::new(), SystemTime::UNIX_EPOCH, Duration::ZERO);
    report.run_id = "umask".into();
    for (mask, file, dir) in [
        (0o022, 0o644, 0o755),
        (0o027, 0o640, 0o750),
        (0o002, 0o664, 0o775),
        (0o077, 0o600, 0o700),
    ] {
        set_umask(mask);
        let out = root.path().join(format!("{mask:03o}/reports"));
        // The fragment first: a new run's first fragment removes the aggregate reports.
        let fragment = write_fragment(&report, &out, "nx").unwrap();
        let paths = write_reports(&report, &out, &ReportFormat::ALL).unwrap();
        set_umask(0o022);
        assert_eq!(paths.len(), ReportFormat::ALL.len());
        for path in paths.iter().chain([&fragment]) {
            assert_eq!(
                mode(path),
                file,
                "{} under umask {mask:03o}",
                path.display()
            );
        }
        for made in [
            out.parent().unwrap(),
            &out,
            &out.join("fragments"),
            &out.join("fragments/nx"),
        ] {
            assert_eq!(mode(made), dir, "{} under umask {mask:03o}", made.display());
        }
    }
}
