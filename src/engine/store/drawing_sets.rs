//! The user's drawing sets as a whole: which sets there are, which one the collector fills (the one chosen last,
//! else the newest), renaming one and deleting one. What is inside a set is [`my_drawings`]' business.

use crate::engine::data::classes::DIGIT_CLASSES;
use crate::engine::files::atomic_file::write_atomic;
use crate::engine::files::bounded_read::read_bounded;
use crate::engine::store::my_drawings::{self, check_name, create_set, sets_dir, DEFAULT_SET};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The chosen set's name, kept in the sets' folder (hidden, so no set is named like it).
const CHOSEN: &str = ".chosen";
/// Sets listed at most (a folder with more lists the first ones by name).
pub const MAX_SETS: usize = 200;

/// One set as the chooser lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetInfo {
    pub name: String,
    pub dir: PathBuf,
    /// Drawings in its class folders.
    pub drawings: usize,
}

/// The sets under the data home, by name (at most [`MAX_SETS`]); none if there is no sets' folder yet.
pub fn list_sets(data_home: &Path) -> Result<Vec<SetInfo>> {
    let dir = sets_dir(data_home);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::data(&dir, "cannot list the drawing sets").because(e)),
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| check_name("set", n).is_ok())
        .collect();
    names.sort();
    names.truncate(MAX_SETS);
    Ok(names
        .into_iter()
        .map(|name| {
            let set = dir.join(&name);
            let drawings = class_folders(&set).iter().map(|c| my_drawings::numbered(c).len()).sum();
            SetInfo { name, dir: set, drawings }
        })
        .collect())
}

/// A set's class folders (not hidden, not links).
fn class_folders(set: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(set) else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect()
}

/// Makes set `name` the one the collector fills from now on (kept across restarts).
pub fn choose_set(data_home: &Path, name: &str) -> Result<PathBuf> {
    let dir = existing_set(data_home, name)?;
    write_atomic(&sets_dir(data_home).join(CHOSEN), format!("{name}\n").as_bytes())?;
    Ok(dir)
}

/// The chosen set, if one was chosen and still exists.
fn chosen_set(data_home: &Path) -> Option<PathBuf> {
    let bytes = read_bounded(&sets_dir(data_home).join(CHOSEN), 1024).ok()?;
    let name = std::str::from_utf8(&bytes).ok()?.trim_end_matches('\n');
    existing_set(data_home, name).ok()
}

/// The folder of set `name`, which must exist (a real folder, not a link).
fn existing_set(data_home: &Path, name: &str) -> Result<PathBuf> {
    check_name("set", name)?;
    let dir = sets_dir(data_home).join(name);
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => Ok(dir),
        _ => Err(Error::data(&dir, "no such drawing set")),
    }
}

/// The set to collect into: the chosen one, else the newest one under the data home, else a new digits set.
pub fn current_or_default(data_home: &Path) -> Result<PathBuf> {
    if let Some(dir) = chosen_set(data_home) {
        return Ok(dir);
    }
    match newest_set(data_home) {
        Some(d) => Ok(d),
        None => create_set(data_home, DEFAULT_SET, &DIGIT_CLASSES.map(String::from)),
    }
}

/// The set changed last, if there is any.
pub fn newest_set(data_home: &Path) -> Option<PathBuf> {
    std::fs::read_dir(sets_dir(data_home)).ok().and_then(|entries| {
        entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && !e.file_name().to_string_lossy().starts_with('.'))
            .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
            .map(|e| e.path())
    })
}

/// Renames set `from` to `to` (a new name; an existing set is never replaced). The chosen set stays chosen.
pub fn rename_set(data_home: &Path, from: &str, to: &str) -> Result<PathBuf> {
    let old = existing_set(data_home, from)?;
    check_name("set", to)?;
    let new = sets_dir(data_home).join(to);
    if std::fs::symlink_metadata(&new).is_ok() {
        return Err(Error::Config(format!("a set named '{}' already exists", crate::error::printable(to))));
    }
    let was_chosen = chosen_set(data_home).is_some_and(|c| c == old);
    std::fs::rename(&old, &new).map_err(|e| Error::write(&new, "cannot rename the set").because(e))?;
    if was_chosen {
        choose_set(data_home, to)?;
    }
    Ok(new)
}

/// Deletes set `name` with all its drawings. The window asks first. Returns the set to collect into next (the
/// newest left), if any.
pub fn delete_set(data_home: &Path, name: &str) -> Result<Option<PathBuf>> {
    let dir = existing_set(data_home, name)?;
    let was_chosen = chosen_set(data_home).is_some_and(|c| c == dir);
    // remove_dir_all removes links it meets, never what they point to.
    std::fs::remove_dir_all(&dir).map_err(|e| Error::write(&dir, "cannot delete the set").because(e))?;
    if was_chosen {
        let marker = sets_dir(data_home).join(CHOSEN);
        std::fs::remove_file(&marker).map_err(|e| Error::write(&marker, "cannot forget the chosen set").because(e))?;
    }
    Ok(newest_set(data_home))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::my_drawings::{add_drawing, parse_classes};

    #[test]
    fn sets_are_listed_chosen_renamed_and_deleted() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        assert!(list_sets(home).unwrap().is_empty());
        let digits = current_or_default(home).unwrap();
        assert_eq!(digits, sets_dir(home).join(DEFAULT_SET));
        let shapes = create_set(home, "shapes", &parse_classes("circle,square").unwrap()).unwrap();
        let img = crate::engine::data::digit::rasterize_strokes(&[vec![[0.3, 0.3], [0.7, 0.7]]], 112, 0.04);
        add_drawing(&shapes, "circle", &img).unwrap();
        add_drawing(&shapes, "square", &img).unwrap();
        let listed: Vec<(String, usize)> = list_sets(home).unwrap().into_iter().map(|s| (s.name, s.drawings)).collect();
        assert_eq!(listed, [("my-handwriting".to_string(), 0), ("shapes".to_string(), 2)]);

        // Chosen: the collector fills it, whichever set changed last.
        choose_set(home, DEFAULT_SET).unwrap();
        add_drawing(&shapes, "circle", &img).unwrap();
        assert_eq!(current_or_default(home).unwrap(), digits);
        assert!(choose_set(home, "nope").is_err() && choose_set(home, "../etc").is_err());

        // Renamed: the chosen set stays chosen; an existing name is never replaced.
        let mine = rename_set(home, DEFAULT_SET, "mine").unwrap();
        assert_eq!(current_or_default(home).unwrap(), mine);
        assert!(rename_set(home, "mine", "shapes").is_err());
        assert_eq!(list_sets(home).unwrap().len(), 2);

        // Deleted: gone with its drawings; the next set is the one left.
        assert_eq!(delete_set(home, "mine").unwrap(), Some(shapes.clone()));
        assert!(!mine.exists());
        assert_eq!(current_or_default(home).unwrap(), shapes);
        assert_eq!(delete_set(home, "shapes").unwrap(), None);
        assert!(delete_set(home, "shapes").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn deleting_a_set_never_follows_a_link_out_of_it() {
        let home = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("precious.txt"), b"keep").unwrap();
        let set = create_set(home.path(), "s", &parse_classes("a,b").unwrap()).unwrap();
        std::os::unix::fs::symlink(outside.path(), set.join("a").join("link")).unwrap();
        // A set that is itself a link is not a set.
        std::os::unix::fs::symlink(outside.path(), sets_dir(home.path()).join("linked")).unwrap();
        assert!(delete_set(home.path(), "linked").is_err());
        delete_set(home.path(), "s").unwrap();
        assert_eq!(std::fs::read(outside.path().join("precious.txt")).unwrap(), b"keep");
    }
}
