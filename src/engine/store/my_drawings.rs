//! The user's own drawings, collected from the canvas into image folders under the data home:
//! `<data home>/my-drawings/<set name>/<class>/<n>.png`. A set is an ordinary image folder
//! ([`image_folder`](crate::engine::data::image_folder)), so it trains, evaluates and fine-tunes like any other and
//! can be copied to another machine or opened by other tools. Each drawing is saved as drawn (dark ink on paper, the
//! canvas' raster), so it goes through the same preprocessing as every other image; files are written atomically.

use crate::engine::data::classes::MAX_CLASSES;
use crate::engine::data::digit::{preprocess, GrayImage};
use crate::engine::data::set::IMAGE_PIXELS;
use crate::engine::files::atomic_file::{write_atomic, write_new};
use crate::engine::files::bounded_read::read_bounded;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The folder of the sets, under the data home.
pub const SETS_FOLDER: &str = "my-drawings";
/// The set made on the first "Add to my set" when there is none: the ten digits.
pub const DEFAULT_SET: &str = "my-handwriting";
/// How many of the newest drawings a summary carries (the collector's strip).
pub const RECENT: usize = 8;
const MAX_NAME_CHARS: usize = 64;

/// Where the sets live.
pub fn sets_dir(data_home: &Path) -> PathBuf {
    data_home.join(SETS_FOLDER)
}

/// A set's classes, how many drawings each has, and the newest drawings (for the strip).
#[derive(Debug, Clone, PartialEq)]
pub struct SetSummary {
    pub name: String,
    pub dir: PathBuf,
    pub class_names: Vec<String>,
    pub counts: Vec<usize>,
    /// Newest first: class index, file, and the 28×28 input the network sees (0..255, ink high).
    pub recent: Vec<(usize, PathBuf, Vec<u8>)>,
}

impl SetSummary {
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }
}

/// Checks a set or class name: a plain folder name (no separators, not hidden), without control characters.
pub fn check_name(what: &str, name: &str) -> Result<()> {
    let bad = |m: &str| Err(Error::Config(format!("{what} '{}': {m}", crate::error::printable(name))));
    if name.trim().is_empty() {
        return bad("it is empty");
    }
    if name.trim() != name {
        return bad("it starts or ends with a space");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return bad("it is longer than 64 characters");
    }
    if name.starts_with('.') || name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        return bad("it must be a plain folder name (no '/', no leading '.', no control characters)");
    }
    Ok(())
}

/// "circle, square, triangle" → the class names, each checked, 2 to 62 of them, no two alike.
pub fn parse_classes(text: &str) -> Result<Vec<String>> {
    let names: Vec<String> = text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    for n in &names {
        check_name("class", n)?;
    }
    if !(2..=MAX_CLASSES).contains(&names.len()) {
        return Err(Error::Config(format!(
            "{} class name(s): a set needs 2 to {MAX_CLASSES}, separated by commas (e.g. circle,square,triangle)",
            names.len()
        )));
    }
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != names.len() {
        return Err(Error::Config("two classes have the same name".into()));
    }
    Ok(names)
}

/// The set's class list, kept beside its class folders (hidden, so the image-folder reader passes it by): the
/// keys 0–9 and the class numbers follow it, whatever else appears in the set's folder.
const CLASS_LIST: &str = ".classes";
const MAX_CLASS_LIST_BYTES: u64 = 64 * 1024;

/// Creates set `name` with a folder per class (an existing set gets the classes it lacks) and its class list.
pub fn create_set(data_home: &Path, name: &str, classes: &[String]) -> Result<PathBuf> {
    check_name("set", name)?;
    let dir = sets_dir(data_home).join(name);
    let mut all = class_list(&dir).unwrap_or_default();
    for c in classes {
        check_name("class", c)?;
        let d = dir.join(c);
        std::fs::create_dir_all(&d).map_err(|e| Error::write(&d, "cannot create the class folder").because(e))?;
        if !all.contains(c) {
            all.push(c.clone());
        }
    }
    // Sorted, as the image-folder reader numbers the classes of a set it trains on.
    all.sort();
    write_atomic(&dir.join(CLASS_LIST), format!("{}\n", all.join("\n")).as_bytes())?;
    Ok(dir)
}

/// The class list of a set, if it has a valid one (sets made before it existed have none: their folders are the
/// list).
fn class_list(set_dir: &Path) -> Option<Vec<String>> {
    let bytes = read_bounded(&set_dir.join(CLASS_LIST), MAX_CLASS_LIST_BYTES).ok()?;
    let names: Vec<String> = std::str::from_utf8(&bytes).ok()?.lines().map(str::to_string).collect();
    names.iter().all(|n| check_name("class", n).is_ok()).then_some(names).filter(|n| !n.is_empty())
}

/// Saves a drawing (grey 0..1, dark ink on light paper) as the next `<n>.png` of class `class`; returns its path.
pub fn add_drawing(set_dir: &Path, class: &str, img: &GrayImage) -> Result<PathBuf> {
    check_name("class", class)?;
    let dir = set_dir.join(class);
    if !dir.is_dir() {
        return Err(Error::data(&dir, "no such class in this set"));
    }
    // The next number after the largest, or past u64::MAX the smallest unused one: never one in use.
    let used: std::collections::HashSet<u64> = numbered(&dir).into_iter().map(|(n, _)| n).collect();
    let next = match used.iter().max() {
        None => 1,
        Some(&max) => max.checked_add(1).unwrap_or_else(|| (1..).find(|n| !used.contains(n)).unwrap_or(1)),
    };
    let path = dir.join(format!("{next}.png"));
    let bytes: Vec<u8> = img.pixels.iter().map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8).collect();
    let mut png = Vec::new();
    let mut enc = png::Encoder::new(&mut png, img.width as u32, img.height as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let encoded = enc.write_header().and_then(|mut w| w.write_image_data(&bytes));
    encoded.map_err(|e| Error::encode("the drawing as PNG", e.to_string()))?;
    // Created exclusively: a file that appeared under that number meanwhile is never replaced.
    write_new(&path, &png)?;
    Ok(path)
}

/// Removes one drawing of a set (only a file inside one of its class folders).
pub fn remove_drawing(set_dir: &Path, file: &Path) -> Result<()> {
    let inside = file.parent().and_then(Path::parent).is_some_and(|p| p == set_dir);
    if !inside || !file.is_file() {
        return Err(Error::data(file, "not a drawing of this set"));
    }
    std::fs::remove_file(file).map_err(|e| Error::write(file, "cannot remove the drawing").because(e))
}

/// The `<n>.png` files of a class folder with their numbers.
pub(crate) fn numbered(dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let n = name.strip_suffix(".png")?.parse::<u64>().ok()?;
            Some((n, e.path()))
        })
        .collect()
}

/// Reads a set's classes and counts and decodes its [`RECENT`] newest drawings (by modification time, then
/// number).
pub fn summary(set_dir: &Path) -> Result<SetSummary> {
    let name = set_dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let mut class_names: Vec<String> = std::fs::read_dir(set_dir)
        .map_err(|e| Error::data(set_dir, "cannot list the set").because(e))?
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.'))
        .collect();
    class_names.sort();
    // The set's own list, when it has one: a class folder replaced by a file keeps its place (with no drawings),
    // so the keys and class numbers never shift.
    // Folders made by hand come after the listed classes.
    if let Some(mut list) = class_list(set_dir) {
        list.extend(class_names.into_iter().filter(|n| !list.contains(n)).collect::<Vec<_>>());
        class_names = list;
    }
    let mut counts = Vec::new();
    let mut all = Vec::new();
    for (c, class) in class_names.iter().enumerate() {
        let files = numbered(&set_dir.join(class));
        counts.push(files.len());
        for (n, p) in files {
            let t = std::fs::metadata(&p).and_then(|m| m.modified()).ok();
            all.push((t, n, c, p));
        }
    }
    all.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let recent = all
        .into_iter()
        .take(RECENT)
        .map(|(_, _, c, p)| {
            let thumb = GrayImage::read_file(&p)
                .ok()
                .and_then(|g| preprocess(&g))
                .map(|x| x.iter().map(|v| (v * 255.0).round() as u8).collect())
                .unwrap_or_else(|| vec![0; IMAGE_PIXELS]);
            (c, p, thumb)
        })
        .collect();
    Ok(SetSummary { name, dir: set_dir.to_path_buf(), class_names, counts, recent })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::data::classes::DIGIT_CLASSES;
    use crate::engine::data::digit::rasterize_strokes;

    #[test]
    fn drawings_are_numbered_files_of_their_class() {
        let home = tempfile::tempdir().unwrap();
        let set = create_set(home.path(), "shapes", &parse_classes("circle, square,triangle").unwrap()).unwrap();
        let mut img = rasterize_strokes(&[vec![[0.3, 0.3], [0.7, 0.7]]], 112, 0.04);
        // The canvas raster is ink high; a drawing is saved as on paper.
        img.pixels.iter_mut().for_each(|v| *v = 1.0 - *v);
        let a = add_drawing(&set, "square", &img).unwrap();
        let b = add_drawing(&set, "square", &img).unwrap();
        assert_eq!((a.file_name().unwrap(), b.file_name().unwrap()), ("1.png".as_ref(), "2.png".as_ref()));
        let s = summary(&set).unwrap();
        assert_eq!(
            (s.class_names.clone(), s.counts.clone()),
            (vec!["circle".into(), "square".into(), "triangle".into()], vec![0, 2, 0])
        );
        assert_eq!(s.recent.len(), 2);
        assert!(s.recent[0].2.iter().any(|&p| p > 200), "the thumbnail shows the stroke");
        remove_drawing(&set, &a).unwrap();
        assert_eq!(summary(&set).unwrap().counts, vec![0, 1, 0]);
        assert!(remove_drawing(&set, &home.path().join("elsewhere.png")).is_err());
        assert!(parse_classes("a").is_err() && parse_classes("a,a").is_err() && parse_classes("a,../b").is_err());
    }

    #[test]
    fn numbers_never_reuse_a_file_and_keys_follow_the_class_list() {
        let home = tempfile::tempdir().unwrap();
        let set = create_set(home.path(), "digits", &DIGIT_CLASSES.map(String::from)).unwrap();
        let img = rasterize_strokes(&[vec![[0.3, 0.3], [0.7, 0.7]]], 112, 0.04);
        // A drawing numbered u64::MAX: the next one takes a free number instead of wrapping onto a used one.
        let top = set.join("3").join(format!("{}.png", u64::MAX));
        std::fs::write(&top, b"mine").unwrap();
        std::fs::write(set.join("3").join("1.png"), b"also mine").unwrap();
        let p = add_drawing(&set, "3", &img).unwrap();
        assert_eq!(p, set.join("3").join("2.png"));
        assert_eq!(std::fs::read(&top).unwrap(), b"mine");
        // Class 5's folder replaced by a file: the classes keep their places, and a 5 is not filed as a 6.
        std::fs::remove_dir_all(set.join("5")).unwrap();
        std::fs::write(set.join("5"), b"not a folder").unwrap();
        let s = summary(&set).unwrap();
        assert_eq!(s.class_names[5], "5");
        assert_eq!(s.class_names[6], "6");
        assert_eq!(s.counts[5], 0);
        assert!(add_drawing(&set, "5", &img).is_err());
        assert!(std::fs::read_dir(set.join("6")).unwrap().next().is_none(), "nothing filed under 6");
    }
}
