//! The house is one-way: no module imports from a layer above it, and
//! modules of one layer do not import each other in a cycle. The layers are
//! listed in the crate documentation (`src/lib.rs`); this test reads the
//! sources and checks every `crate::…` path outside comments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module and its layer, lowest first (as in `src/lib.rs`).
const LAYERS: &[(&str, u8)] = &[
    ("error", 0),
    ("time", 0),
    ("suite", 0),
    ("wire", 1),
    ("crypto", 1),
    ("rng", 1),
    ("record", 2),
    ("noise", 2),
    ("key_schedule", 2),
    ("cookie", 2),
    ("ticket", 2),
    ("keys", 2),
    ("config", 3),
    ("conn", 4),
    ("early_data", 5),
    ("adapter", 5),
    ("blocking", 6),
    ("tokio", 6),
    ("ffi", 7),
    // Test-only fixture loading (third-party vectors), usable by any
    // module's unit tests; it imports nothing from the crate.
    ("vector_files", 0),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::name` a file uses outside comments (test modules of a file
/// count too: they must respect the layers as well).
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
            rest = after;
        }
    }
    found
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layers: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut violations = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" {
            continue;
        }
        let Some(&layer) = layers.get(module.as_str()) else {
            panic!("src/{module}: a new module; give it a layer in src/lib.rs and in LAYERS");
        };
        let text = std::fs::read_to_string(file).unwrap();
        for dep in crate_paths(&text) {
            if dep == module {
                continue;
            }
            match layers.get(dep.as_str()) {
                // Items re-exported at the root (crate::Connection) are not
                // module paths: uppercase names are skipped by crate_paths.
                None => violations.push(format!("{}: unknown module crate::{dep}", file.display())),
                Some(&dep_layer) if dep_layer > layer => violations.push(format!(
                    "{} (layer {layer}) imports crate::{dep} (layer {dep_layer})",
                    file.display()
                )),
                Some(_) => {
                    edges.entry(module.clone()).or_default().insert(dep);
                }
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
    // No cycles: repeatedly remove modules that import nothing left.
    let mut left = edges.clone();
    loop {
        let leaves: Vec<String> = left
            .iter()
            .filter(|(_, deps)| deps.iter().all(|d| !left.contains_key(d)))
            .map(|(m, _)| m.clone())
            .collect();
        if leaves.is_empty() {
            break;
        }
        for m in leaves {
            left.remove(&m);
        }
    }
    assert!(left.is_empty(), "import cycle among {:?}", left.keys());
}

#[test]
fn the_crate_documentation_lists_the_same_layers() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for (module, layer) in LAYERS.iter().filter(|(m, _)| *m != "vector_files") {
        assert!(
            lib.lines()
                .any(|l| l.starts_with(&format!("//! {layer}."))
                    && l.contains(&format!("`{module}`"))),
            "src/lib.rs does not list `{module}` in layer {layer}"
        );
    }
}
