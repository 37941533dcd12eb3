//! The layers by name: the engine and the kernels name no GUI crate (egui, eframe, egui_plot, rfd), and the app
//! names no candle, so the numerics run headless and the window can change without touching them. The check
//! reads the sources: a crate counts where code names it as a path (`egui::Ui`, `use rfd;`, `extern crate`),
//! not in comments or string literals.

use std::path::{Path, PathBuf};

const GUI_CRATES: &[&str] = &["egui", "eframe", "egui_plot", "rfd", "egui_kittest", "winit"];
const COMPUTE_CRATES: &[&str] = &["candle", "candle_core", "candle_nn"];

#[test]
fn engine_and_kernels_name_no_gui_crate() {
    let mut found = Vec::new();
    for dir in ["src/engine", "src/kernels"] {
        found.extend(scan_dir(dir, GUI_CRATES));
    }
    assert!(found.is_empty(), "GUI crates named below the app:\n{}", found.join("\n"));
}

#[test]
fn app_names_no_candle() {
    let found = scan_dir("src/app", COMPUTE_CRATES);
    assert!(found.is_empty(), "candle named in the app (go through the engine):\n{}", found.join("\n"));
}

/// The scanner must be able to fail: planted names are found, look-alikes are not.
#[test]
fn the_scanner_finds_planted_names_and_ignores_comments_and_strings() {
    let planted = "use egui::Ui;\nfn f() { let _ = eframe::APP_KEY; }\nuse rfd;\n";
    assert_eq!(names_in(planted, GUI_CRATES), ["egui", "eframe", "rfd"]);
    assert_eq!(names_in("pub fn t() -> candle_core::Tensor { todo!() }", COMPUTE_CRATES), ["candle_core"]);
    assert_eq!(names_in("use ::egui_plot::{Line, Plot};", GUI_CRATES), ["egui_plot"]);
    assert_eq!(names_in("extern crate eframe;", GUI_CRATES), ["eframe"]);
    let harmless = concat!(
        "// egui::Ui in a comment\n",
        "/* eframe::run_native, /* nested */ rfd::FileDialog */\n",
        "//! the app draws with egui_plot::Line\n",
        "let s = \"egui::Context\"; let r = r#\"rfd::x\"#;\n",
        "let my_egui = 1; mod egui_like { } let c = 'e'; let q = '\\''; fn l<'a>(x: &'a str) {}\n",
        "fn f(egui: u8) -> u8 { egui }\n",
        "use crate::app::egui::x; let _ = self::rfd::y;\n",
    );
    assert_eq!(names_in(harmless, GUI_CRATES), Vec::<String>::new());
    // And on a real file: the app itself names egui.
    assert!(scan_dir("src/app", GUI_CRATES).iter().any(|hit| hit.contains("egui")));
}

/// Each hit as "path:line: name".
fn scan_dir(dir: &str, names: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join(dir), &mut files);
    assert!(!files.is_empty(), "no sources under {dir}");
    let mut hits = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let code = strip_comments_and_strings(&text);
        for (line_no, line) in code.lines().enumerate() {
            for name in names_in(line, names) {
                let shown = file.strip_prefix(root).unwrap_or(&file).display().to_string();
                hits.push(format!("{shown}:{}: {name}", line_no + 1));
            }
        }
    }
    hits
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
}

/// The crate names of `names` that `code` uses as a crate: the first segment of a path (`name::x`, `::name::x`),
/// `use name` or `extern crate name`. Comments and strings are removed first.
fn names_in(code: &str, names: &[&str]) -> Vec<String> {
    let code = strip_comments_and_strings(code);
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut found = Vec::new();
    let mut prev_word = "";
    let mut rest = code.as_str();
    while let Some(start) = rest.find(is_ident) {
        let len = rest[start..].find(|c: char| !is_ident(c)).unwrap_or(rest.len() - start);
        let (before, word, after) = (&rest[..start], &rest[start..start + len], &rest[start + len..]);
        // `a::name` is a path inside `a`, not the crate; a leading `::name` is the crate.
        let inside_a_path = before == "::" && !prev_word.is_empty();
        let starts_a_path = after.trim_start().starts_with("::") && !inside_a_path;
        let named = starts_a_path || prev_word == "use" || (prev_word == "crate" && !inside_a_path);
        if named && names.contains(&word) {
            found.push(word.to_string());
        }
        prev_word = word;
        rest = after;
    }
    found
}

/// Replaces comments (line, nested block) and string and char literals with spaces, keeping line breaks.
fn strip_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&chars, i) {
            // Raw string r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            let closing: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            while j < chars.len() && !chars[j..].iter().collect::<String>().starts_with(&closing) {
                j += 1;
            }
            let end = (j + closing.len()).min(chars.len());
            out.extend(chars[i..end].iter().map(|&c| blank(c)));
            i = end;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && is_char_literal(&chars, i) {
            let from = if chars[i + 1] == '\\' { i + 3 } else { i + 2 }; // past an escaped character
            let end =
                chars[from.min(chars.len())..].iter().position(|&c| c == '\'').map_or(chars.len(), |p| from + p + 1);
            out.extend(chars[i..end].iter().map(|&c| blank(c)));
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// `'x'` or `'\n'` (a char literal), not a lifetime `'a`.
fn is_char_literal(chars: &[char], i: usize) -> bool {
    matches!((chars.get(i + 1), chars.get(i + 2)), (Some('\\'), _) | (Some(_), Some('\'')))
}
