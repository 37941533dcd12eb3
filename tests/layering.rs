//! The layers by name: the engine and the kernels name no GUI crate (egui, eframe, egui_plot, rfd), and the app
//! names no candle, so the numerics run headless and the window can change without touching them. The check
//! reads the sources: a crate counts where code names it as a path (`egui::Ui`, `use rfd;`, `extern crate`),
//! not in comments or string literals. Inside the app, the files' references to each other (`use`, `crate::app::`,
//! `super::`, `self::`, a child module's name) form a graph without a circle, and the command module names nothing
//! else of the app.

use std::collections::{BTreeMap, BTreeSet};
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

/// The app's files as modules (`app`, `app::views::plots`, …) and the modules each one refers to.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn the_app_command_module_names_nothing_else_of_the_app() {
    let graph = module_graph(&crate_sources());
    assert!(graph.len() >= 20, "too few modules found: {:?}", graph.keys());
    assert!(graph["app"].contains("app::command"), "the scanner sees mod.rs's imports: {:?}", graph["app"]);
    let app_edges: Vec<_> = graph["app::command"].iter().filter(|m| m.starts_with("app")).collect();
    assert!(app_edges.is_empty(), "app::command imports from the app: {app_edges:?}");
}

/// In every folder of `src/`, its files and sub-folders (each sub-folder seen as one node, with everything below
/// it) refer to each other without a circle: a folder's parts can be read, and moved, one after the other.
#[test]
fn no_folder_of_src_has_an_import_circle() {
    let graph = module_graph(&crate_sources());
    assert!(graph.keys().any(|m| m.starts_with("engine::data")), "the engine is scanned: {:?}", graph.keys());
    let circles = folder_circles(&graph);
    assert!(circles.is_empty(), "import circles:\n{}", circles.join("\n"));
}

/// The crate's files as modules (`app`, `engine::data::idx`, …) and their text; `lib.rs` is the root "".
fn crate_sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files
        .iter()
        .filter(|f| !f.ends_with("src/main.rs"))
        .map(|f| {
            let rel = f.strip_prefix(root.join("src")).unwrap().with_extension("");
            let mut segments: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
            if segments.last().is_some_and(|s| s == "mod" || s == "lib") {
                segments.pop();
            }
            (segments.join("::"), std::fs::read_to_string(f).unwrap())
        })
        .collect()
}

/// For every folder (a module with children), the circle among its direct parts, as "folder: a -> b -> a".
fn folder_circles(graph: &Graph) -> Vec<String> {
    let folders: BTreeSet<Vec<String>> =
        graph.keys().map(|m| split(m)).filter(|m| m.len() > 1).map(|m| m[..m.len() - 1].to_vec()).collect();
    let folders: BTreeSet<Vec<String>> = folders.into_iter().chain(std::iter::once(Vec::new())).collect();
    let mut found = Vec::new();
    for folder in folders {
        // Each module under the folder, as the folder's direct part it lies in (the folder's own mod.rs is a part).
        let part = |module: &str| -> Option<String> {
            let m = split(module);
            if !m.starts_with(&folder) {
                return None;
            }
            Some(m[..(folder.len() + 1).min(m.len())].join("::"))
        };
        let mut projected = Graph::new();
        for (from, targets) in graph {
            let Some(a) = part(from) else { continue };
            for target in targets {
                if let Some(b) = part(target).filter(|b| *b != a) {
                    projected.entry(a.clone()).or_default().insert(b);
                }
            }
        }
        if let Some(circle) = find_circle(&projected) {
            let name = if folder.is_empty() { "src".to_string() } else { folder.join("/") };
            found.push(format!("{name}: {}", circle.join(" -> ")));
        }
    }
    found
}

/// The graph must be able to fail: every kind of reference is seen, test modules' `super` is their own file, and a
/// planted back-edge is reported as a circle with its modules named.
#[test]
fn the_module_graph_sees_every_reference_and_reports_planted_circles() {
    let src = |m: &str, code: &str| (m.to_string(), code.to_string());
    let mut sources = vec![
        src("app", "mod views; use command::UiCommand;\nfn f() { views::panel::draw(); }\npub use jobs::Picker;\n"),
        src(
            "app::command",
            "use crate::engine::x::Y; // crate::app::state in a comment\nconst S: &str = \"super::jobs\";\n",
        ),
        src("app::jobs", "use crate::app::{command::{self, UiCommand}, state::Session as S};\n"),
        src("app::state", "#[cfg(test)]\nmod tests {\n    use super::*;\n}\npub(in crate::app) fn f() {}\n"),
        src("app::views", "pub mod panel;\n"),
        src(
            "app::views::panel",
            "use super::super::state::Session;\nfn g() { let _ = crate::app::command::UiCommand::Train; }\n",
        ),
    ];
    let graph = module_graph(&sources);
    let edges = |m: &str| graph[m].iter().cloned().collect::<Vec<_>>();
    assert_eq!(edges("app"), ["app::command", "app::jobs", "app::views::panel"]);
    assert_eq!(edges("app::command"), Vec::<String>::new());
    assert_eq!(edges("app::jobs"), ["app::command", "app::state"]);
    assert_eq!(edges("app::state"), Vec::<String>::new(), "a test module's super is its own file; pub(in) is no use");
    assert_eq!(edges("app::views::panel"), ["app::command", "app::state"]);
    assert_eq!(find_circle(&graph), None);
    // A back-edge: the command module names the app.
    sources[1].1.push_str("fn h(app: &crate::app::PlaygroundApp) {}\n");
    let circle = find_circle(&module_graph(&sources)).expect("the planted circle is found");
    assert_eq!(circle, ["app", "app::command", "app"]);
    // A longer one through a group import.
    sources[1].1 = "use super::{jobs::Picker, views};\n".into();
    let circle = find_circle(&module_graph(&sources)).expect("the planted circle is found");
    assert_eq!(circle, ["app::command", "app::jobs", "app::command"]);
}

/// Every app module of `sources` (module path, text) and the app modules its code refers to (itself excluded).
fn module_graph(sources: &[(String, String)]) -> Graph {
    let known: BTreeSet<Vec<String>> = sources.iter().map(|(m, _)| split(m)).collect();
    let mut graph = Graph::new();
    for (module, text) in sources {
        let here = split(module);
        let targets = references(&strip_comments_and_strings(text), &here, &known)
            .into_iter()
            .filter_map(|path| (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| known.contains(p)))
            .filter(|target| *target != here)
            .map(|target| target.join("::"))
            .collect();
        graph.insert(module.clone(), targets);
    }
    graph
}

fn split(module: &str) -> Vec<String> {
    module.split("::").filter(|s| !s.is_empty()).map(str::to_string).collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Punct(char),
}

fn tokens(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
            continue;
        }
        if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(Token::PathSep);
            i += 2;
            continue;
        }
        if !c.is_whitespace() {
            out.push(Token::Punct(c));
        }
        i += 1;
    }
    out
}

/// The absolute module paths `code` (in module `here`) names: `use` trees expanded, and paths in code that start
/// with `crate`, `super`, `self` or a child module. Inline `mod name { … }` blocks (tests) resolve `super` to the
/// file itself.
fn references(code: &str, here: &[String], known: &BTreeSet<Vec<String>>) -> Vec<Vec<String>> {
    let toks = tokens(code);
    let ident = |i: usize| match toks.get(i) {
        Some(Token::Ident(s)) => Some(s.as_str()),
        _ => None,
    };
    let mut found = Vec::new();
    let mut depth = 0usize;
    // Inline modules: (brace depth inside them, name).
    let mut inline: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let context: Vec<String> = here.iter().cloned().chain(inline.iter().map(|(_, n)| n.clone())).collect();
        match &toks[i] {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(d, _)| *d > depth) {
                    inline.pop();
                }
            }
            Token::Ident(w) if w == "mod" && ident(i + 1).is_some() && toks.get(i + 2) == Some(&Token::Punct('{')) => {
                depth += 1;
                inline.push((depth, ident(i + 1).unwrap_or_default().to_string()));
                i += 3;
                continue;
            }
            Token::Ident(w) if w == "use" => {
                let end = toks[i..].iter().position(|t| *t == Token::Punct(';')).map_or(toks.len(), |p| i + p);
                let mut paths = Vec::new();
                use_tree(&toks[i + 1..end], &mut 0, Vec::new(), &mut paths);
                found.extend(paths.iter().filter_map(|p| resolve(p, &context, known)));
                i = end + 1;
                continue;
            }
            Token::Ident(_) if i == 0 || (toks[i - 1] != Token::PathSep && ident(i - 1) != Some("in")) => {
                let mut path = vec![ident(i).unwrap_or_default().to_string()];
                let mut j = i + 1;
                while toks.get(j) == Some(&Token::PathSep) && ident(j + 1).is_some() {
                    path.push(ident(j + 1).unwrap_or_default().to_string());
                    j += 2;
                }
                if path.len() > 1 {
                    found.extend(resolve(&path, &context, known));
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Expands a `use` tree (`a::{b, c::{self, d}}`) into paths.
fn use_tree(toks: &[Token], i: &mut usize, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    if toks.get(*i) == Some(&Token::PathSep) && prefix.is_empty() {
        // `::name`: an extern crate.
        *i += 1;
        prefix.push("::".into());
    }
    loop {
        match toks.get(*i) {
            Some(Token::Ident(s)) if s == "self" && !prefix.is_empty() => *i += 1,
            Some(Token::Ident(s)) => {
                prefix.push(s.clone());
                *i += 1;
            }
            Some(Token::Punct('{')) => {
                *i += 1;
                while *i < toks.len() && toks[*i] != Token::Punct('}') {
                    use_tree(toks, i, prefix.clone(), out);
                    if toks.get(*i) == Some(&Token::Punct(',')) {
                        *i += 1;
                    }
                }
                *i += 1;
                return;
            }
            Some(Token::Punct('*')) => {
                *i += 1;
                break;
            }
            _ => break,
        }
        if toks.get(*i) == Some(&Token::PathSep) {
            *i += 1;
        } else {
            break;
        }
    }
    if ident(toks, *i) == Some("as") {
        *i += 2;
    }
    out.push(prefix);
}

fn ident(toks: &[Token], i: usize) -> Option<&str> {
    match toks.get(i) {
        Some(Token::Ident(s)) => Some(s),
        _ => None,
    }
}

/// `path` as seen from module `context`, made absolute; None for what is not a module path of this crate
/// (extern crates, local names).
fn resolve(path: &[String], context: &[String], known: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let first = path.first()?.as_str();
    let (mut base, mut rest) = match first {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (context.to_vec(), &path[1..]),
        "super" => (context.to_vec(), path),
        "::" => return None,
        // A plain name is a path only when it is a child module (`views::x` in mod.rs); else a type, a crate, a local.
        child if known.contains(&[context, &[child.to_string()]].concat()) => (context.to_vec(), path),
        _ => return None,
    };
    while rest.first().is_some_and(|s| s == "super") {
        base.pop()?;
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// A circle of the graph as its modules in order (first == last), or None.
fn find_circle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
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
