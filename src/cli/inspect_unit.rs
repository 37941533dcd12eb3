//! `inspect --unit c3:4 --weights W`: what one unit of a trained network responds to — the test images that excite
//! it most and least, by index, with their responses and where in the image — and, with `--crops DIR`, each of them
//! cropped to the pixels that response saw, as PNGs (4× upscaled) with an index.csv. The same ranking as the app's
//! Inside tab.

use super::eval::test_in_weights_classes;
use super::output::print_stdout;
use crate::engine::files::atomic_file::write_atomic;
use crate::engine::insight::inside::units::{crop, parse_unit, rank_units, Response, SHOWN};
use crate::engine::model::checkpoint;
use crate::engine::model::predict::Predictor;
use crate::error::printable;
use crate::{Error, Result};
use std::path::Path;

/// Crops are written this many times their size (a 14×14 crop becomes 56×56).
const UPSCALE: u32 = 4;

pub(super) fn run_inspect_unit(spec: &str, weights: &Path, data: Option<&Path>, crops: Option<&Path>) -> Result<()> {
    let w = checkpoint::load(weights)?;
    let predictor = Predictor::new(&w)?.with_source(weights);
    let (index, unit) = parse_unit(predictor.stages(), spec)?;
    let data = test_in_weights_classes(&w, weights, data, "there are no images to rank")?;
    let test = &data.test;
    let rankings = rank_units(&predictor, index, test, SHOWN)?;
    let ranking = rankings.get(unit).ok_or_else(|| Error::Internal(format!("no ranking for unit {unit}")))?;
    let stage = predictor.stages()[index];
    let name = |r: &Response| w.class_names.get(test.labels[r.image] as usize).cloned().unwrap_or_default();
    let mut out = format!(
        "unit {spec}: {} {} of {} ({}), ranked over {} test images ({})\n",
        if matches!(stage.output, crate::engine::model::stages::Output::Maps { .. }) { "channel" } else { "unit" },
        unit,
        stage.key,
        stage.kind.layer_name(),
        test.len(),
        data.describe_test_half()
    );
    let mut csv =
        String::from("rank,end,image,class,response,row,column,field_top,field_left,field_bottom,field_right,file\n");
    let mut files = Vec::new();
    for (end, list) in [("most", &ranking.top), ("least", &ranking.bottom)] {
        out.push_str(&format!("{end}:\n"));
        for (k, r) in list.iter().enumerate() {
            let f = r.field;
            out.push_str(&format!(
                "  {:>2}. image {:>5} ({})  response {:+.4}  at row {}, column {}  sees rows {}..{}, columns {}..{}\n",
                k + 1,
                r.image,
                printable(&name(r)),
                r.value,
                r.at.0,
                r.at.1,
                f.top,
                f.bottom,
                f.left,
                f.right
            ));
            let file = format!("{end}-{:02}_image-{}.png", k + 1, r.image);
            csv.push_str(&format!(
                "{},{end},{},{},{},{},{},{},{},{},{},{file}\n",
                k + 1,
                r.image,
                test.labels[r.image],
                r.value,
                r.at.0,
                r.at.1,
                f.top,
                f.left,
                f.bottom,
                f.right
            ));
            files.push((file, crop(test, r), f.width() as u32, f.height() as u32));
        }
    }
    if let Some(dir) = crops {
        std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, "cannot create the folder").because(e))?;
        for (file, pixels, width, height) in &files {
            let path = dir.join(file);
            write_atomic(&path, &png(pixels, *width, *height, &path)?)?;
        }
        write_atomic(&dir.join("index.csv"), csv.as_bytes())?;
        out.push_str(&format!(
            "wrote {} crops and index.csv to {}\n",
            files.len(),
            printable(&dir.display().to_string())
        ));
    }
    print_stdout(&out);
    Ok(())
}

/// A crop (0..1, ink = 1) as a greyscale PNG, each pixel a square of UPSCALE × UPSCALE.
fn png(pixels: &[f32], width: u32, height: u32, path: &Path) -> Result<Vec<u8>> {
    let img = image::GrayImage::from_fn(width * UPSCALE, height * UPSCALE, |x, y| {
        let v = pixels[((y / UPSCALE) * width + x / UPSCALE) as usize];
        image::Luma([(v.clamp(0.0, 1.0) * 255.0).round() as u8])
    });
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| Error::encode(format!("{} as PNG", path.display()), e))?;
    Ok(bytes)
}
