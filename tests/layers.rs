//! The module layers of ARCHITECTURE.md, kept true: a module may use its own layer and the
//! layers below it, never one above. Reads every `crate::…` path in `src/` (comments left out).

use std::path::{Path, PathBuf};

/// The layers, lowest first; each lists its top-level modules.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "core",
        &["config", "time", "events", "dsp", "analysis", "audio"],
    ),
    ("driver", &["driver"]),
    ("files", &["output", "offline"]),
    ("session", &["session"]),
    ("live", &["live"]),
    ("front", &["app", "export", "headless", "cli"]),
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

/// The top-level module a source file belongs to (`src/session/model.rs` → `session`).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_string())
}

/// Every `crate::MODULE` a line of code names.
fn crate_modules(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices("crate::")
        .filter(|(i, _)| {
            // Not part of a longer name (`attune_crate::`).
            code[..*i]
                .chars()
                .last()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
        })
        .map(|(i, m)| {
            code[i + m.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// The imports of `source` (a file of module `module`) that point to a layer above its own.
fn violations(module: &str, source: &str) -> Vec<String> {
    let Some(own) = rank(module) else {
        return vec![format!(
            "module {module} is in no layer: add it to LAYERS and ARCHITECTURE.md"
        )];
    };
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        for target in crate_modules(line) {
            match rank(&target) {
                Some(r) if r > own => found.push(format!(
                    "line {}: {module} ({}) uses crate::{target} ({})",
                    n + 1,
                    LAYERS[own].0,
                    LAYERS[r].0
                )),
                Some(_) => {}
                None => found.push(format!("line {}: crate::{target} is in no layer", n + 1)),
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&src).expect("under src");
        let module = module_of(rel).expect("module name");
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(path).expect("read");
        for v in violations(&module, &text) {
            found.push(format!("src/{}: {v}", rel.display()));
        }
    }
    assert!(files.len() > 50, "only {} files found", files.len());
    assert!(found.is_empty(), "layers broken:\n{}", found.join("\n"));
}

#[test]
fn the_check_catches_an_import_from_above() {
    // What the test above would report if `session` used the command line.
    let v = violations("session", "use crate::cli::FileError;\n");
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(
        v[0].contains("session (session) uses crate::cli (front)"),
        "{v:?}"
    );
    assert!(!violations("analysis", "use crate::live::LivePipeline;").is_empty());
    assert!(!violations("driver", "let x = crate::offline::analyze_file;").is_empty());
    // Downward and same-layer uses, comments and longer names are fine.
    assert!(violations("session", "use crate::driver::files::FileError;").is_empty());
    assert!(violations("app", "use crate::export::Format;").is_empty());
    assert!(violations("dsp", "// see crate::live for the thread").is_empty());
    assert!(violations("dsp", "use other_crate::live;").is_empty());
}
