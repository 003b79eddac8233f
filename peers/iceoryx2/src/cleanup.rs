//! Removing the iceoryx2 files a run made (`/dev/shm` and `/tmp/iceoryx2`).

use super::*;

/// Directories under `root` (recursively), including `root` if it exists.
pub(crate) fn dirs_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        out.push(dir);
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(e.path());
            }
        }
    }
    out
}

/// Removes every file named `prefix*` in /dev/shm and under /tmp/iceoryx2,
/// then the directories under /tmp/iceoryx2 this run created, if empty.
pub(crate) fn cleanup(prefix: &str, dirs_before: &[PathBuf], root_existed: bool) {
    if let Ok(rd) = std::fs::read_dir("/dev/shm") {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let root = Path::new(IOX2_ROOT);
    let mut dirs = dirs_under(root);
    for dir in &dirs {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in rd.flatten() {
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if !is_dir && e.file_name().to_string_lossy().starts_with(prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    // Deepest first; remove_dir fails on a non-empty directory.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in dirs {
        if !dirs_before.contains(&dir) && (dir != root || !root_existed) {
            let _ = std::fs::remove_dir(&dir);
        }
    }
}
