//! `explain`: which parts of an image decided a class — the occlusion map (engine::insight::explain) drawn over the
//! preprocessed input as a PNG, and with `--json` the map's numbers.

use super::checks::check_not_input;
use super::output::print_stdout;
use crate::engine::files::atomic_file::write_atomic;
use crate::engine::insight::explain::occlusion;
use crate::engine::model::checkpoint;
use crate::engine::model::predict::{read_input, Predictor};
use crate::error::printable;
use crate::render::attribution::{display_scale, overlay_png};
use crate::Result;
use std::path::Path;

/// Each input pixel becomes ZOOM×ZOOM output pixels (280×280 for the image, plus the colour bar).
const ZOOM: usize = 10;

pub(super) fn run_explain(weights: &Path, image: &Path, class: Option<usize>, out: &Path, json: bool) -> Result<()> {
    // The map never overwrites what it is computed from.
    check_not_input("--out", out, &[weights.to_path_buf(), image.to_path_buf()])?;
    let w = checkpoint::load(weights)?;
    let predictor = Predictor::new(&w)?.with_source(weights);
    let input = read_input(image)?;
    let a = occlusion(&predictor, &input, class)?;
    write_atomic(out, &overlay_png(&input, &a.map, ZOOM)?)?;
    let name = w.class_names.get(a.class).cloned().unwrap_or_default();
    if json {
        let map: Vec<Vec<f32>> = a.rows().iter().map(|r| r.iter().map(|v| (v * 1e4).round() / 1e4).collect()).collect();
        print_stdout(&format!(
            "{}\n",
            serde_json::json!({
                "path": image.display().to_string(),
                "class": a.class,
                "class_name": name,
                "probability": a.probability,
                "map": map,
            })
        ));
    } else {
        print_stdout(&format!(
            "{}\tclass {} (p = {:.4})\tlargest drop {:.4}, colour scale ±{:.4}\t{}\n",
            printable(&image.display().to_string()),
            printable(&name),
            a.probability,
            a.map.iter().copied().fold(f32::MIN, f32::max),
            display_scale(&a.map),
            printable(&out.display().to_string())
        ));
    }
    Ok(())
}
