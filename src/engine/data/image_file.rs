//! Image files (PNG, JPEG) decoded to a grey image in bounded memory: the dimensions are checked from the header
//! before any pixel is decoded, PNG rows are folded into a small working image as they arrive, JPEG is decoded
//! straight to grey, and a truncated or corrupt file is refused naming it — never answered as a digit.

use crate::engine::data::digit::GrayImage;
use crate::engine::files::bounded_read::{open_bounded, Refusal};
use crate::{Error, Result};
use std::io::{BufReader, Seek};
use std::path::Path;

/// Images larger than this on either side are refused before decoding.
pub const MAX_IMAGE_SIDE: u32 = 8192;
/// Images with more pixels than this are refused before decoding.
pub const MAX_IMAGE_PIXELS: u64 = 64_000_000;
/// Image files larger than this are refused before reading (a 64-megapixel photo is far smaller).
pub const MAX_IMAGE_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// Decoded images are downscaled on the fly so neither side exceeds this; the digit ends up 20 px anyway.
pub const WORK_SIDE: u32 = 1024;
/// Interlaced PNGs cannot be read row by row into place, so they are decoded whole, with a lower limit.
const MAX_INTERLACED_PIXELS: u64 = 16_000_000;
/// Progressive and CMYK JPEGs keep every coefficient of every component until the last scan (2 bytes a sample), so
/// they get a lower limit too: a 16-megapixel CMYK file needs about 130 MB, a 64-megapixel one would need 500 MB.
pub const MAX_PROGRESSIVE_JPEG_PIXELS: u64 = 16_000_000;

impl GrayImage {
    /// Reads a PNG or JPEG file as luminance 0..1 (transparency over white paper), downscaled so neither side
    /// exceeds [`WORK_SIDE`]. The dimensions are read first: anything over [`MAX_IMAGE_SIDE`] a side or
    /// [`MAX_IMAGE_PIXELS`] is refused before any pixel is decoded. PNG rows are folded into the small image as they
    /// are decoded and JPEG is decoded straight to one grey byte per pixel, so memory stays bounded (about 64 MB for
    /// the largest JPEG, a few MB for any PNG) whatever the file holds. A file that ends early or is corrupt is an
    /// error, in every format. Every error names the file.
    pub fn read_file(path: &Path) -> Result<Self> {
        let err = |m: String| Error::image(path, m);
        let cannot = |e: std::io::Error| Error::image(path, "cannot read image").because(e);
        let (mut file, _) = open_bounded(path, MAX_IMAGE_FILE_BYTES).map_err(|r| match r {
            Refusal::NotFound(e) | Refusal::Io(e) => cannot(e),
            r => r.into_error(
                path,
                |p, m| Error::image(p, m),
                |len| {
                    format!(
                        "file is {} MB, over the {} MB limit for an image",
                        len / (1024 * 1024),
                        MAX_IMAGE_FILE_BYTES / (1024 * 1024)
                    )
                },
            ),
        })?;
        let probe = file.try_clone().map_err(cannot)?;
        let mut reader = image::ImageReader::new(BufReader::new(probe)).with_guessed_format().map_err(cannot)?;
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(64 * 1024 * 1024);
        reader.limits(limits);
        let format = reader.format();
        let (w, h) = reader.into_dimensions().map_err(|e| Error::image(path, "cannot read image").because(e))?;
        check_dimensions(w, h).map_err(err)?;
        // The probe shares the file's offset: back to the start for the decoder.
        file.rewind().map_err(cannot)?;
        let file = BufReader::new(file);
        match format {
            Some(image::ImageFormat::Png) => read_png(path, file, w, h),
            Some(image::ImageFormat::Jpeg) => read_jpeg(path, file, w, h),
            Some(f) => Err(err(format!("{f:?} images are not supported (PNG or JPEG)"))),
            None => Err(err("not a PNG or JPEG image".into())),
        }
    }
}

/// Refuses an image by its dimensions alone, with a message that gives them and the limit.
pub fn check_dimensions(w: u32, h: u32) -> std::result::Result<(), String> {
    if w == 0 || h == 0 {
        return Err(format!("image is {w}×{h}: empty"));
    }
    if w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE || w as u64 * h as u64 > MAX_IMAGE_PIXELS {
        return Err(format!(
            "image is {w}×{h}, over the limit of {MAX_IMAGE_SIDE} pixels a side and {} megapixels",
            MAX_IMAGE_PIXELS / 1_000_000
        ));
    }
    Ok(())
}

/// Box-averages a w×h image into at most WORK_SIDE a side as pixels arrive, in any order: each source pixel
/// lands in exactly one target pixel.
struct Shrinker {
    w: u32,
    h: u32,
    tw: u32,
    th: u32,
    sum: Vec<f32>,
    count: Vec<u32>,
}

impl Shrinker {
    fn new(w: u32, h: u32) -> Self {
        let scale = (WORK_SIDE as f64 / w.max(h) as f64).min(1.0);
        let tw = ((w as f64 * scale).round() as u32).clamp(1, w);
        let th = ((h as f64 * scale).round() as u32).clamp(1, h);
        let n = tw as usize * th as usize;
        Shrinker { w, h, tw, th, sum: vec![0.0; n], count: vec![0; n] }
    }
    fn add(&mut self, x: u32, y: u32, v: f32) {
        if x >= self.w || y >= self.h {
            return;
        }
        let tx = (x as u64 * self.tw as u64 / self.w as u64) as usize;
        let ty = (y as u64 * self.th as u64 / self.h as u64) as usize;
        let i = ty * self.tw as usize + tx;
        self.sum[i] += v;
        self.count[i] += 1;
    }
    /// Pixels never delivered (a short image) count as white paper.
    fn finish(self) -> GrayImage {
        let pixels = self.sum.iter().zip(&self.count).map(|(s, &c)| if c == 0 { 1.0 } else { s / c as f32 }).collect();
        GrayImage { width: self.tw as usize, height: self.th as usize, pixels }
    }
}

/// Luminance 0..1 of 8-bit samples of `channels` channels (grey, grey+alpha, RGB, RGBA), over white.
fn luminance(px: &[u8]) -> f32 {
    let f = |c: u8| c as f32 / 255.0;
    match *px {
        [g] => f(g),
        [g, a] => f(g) * f(a) + (1.0 - f(a)),
        [r, g, b] => 0.299 * f(r) + 0.587 * f(g) + 0.114 * f(b),
        [r, g, b, a] => (0.299 * f(r) + 0.587 * f(g) + 0.114 * f(b)) * f(a) + (1.0 - f(a)),
        _ => 1.0,
    }
}

fn read_png(path: &Path, file: BufReader<std::fs::File>, w: u32, h: u32) -> Result<GrayImage> {
    let bad = |e: png::DecodingError| Error::image(path, "cannot read image").because(e);
    let err = |m: String| Error::image(path, m);
    let mut decoder = png::Decoder::new(file);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    decoder.set_limits(png::Limits { bytes: 96 * 1024 * 1024 });
    let mut reader = decoder.read_info().map_err(bad)?;
    let (iw, ih) = (reader.info().width, reader.info().height);
    if (iw, ih) != (w, h) {
        return Err(err(format!("cannot read image: header changed between reads ({w}×{h}, then {iw}×{ih})")));
    }
    let channels = reader.output_color_type().0.samples();
    let mut shrink = Shrinker::new(w, h);
    if reader.info().interlaced {
        if w as u64 * h as u64 > MAX_INTERLACED_PIXELS {
            return Err(err(format!(
                "image is {w}×{h}, over the limit of {} megapixels for an interlaced PNG",
                MAX_INTERLACED_PIXELS / 1_000_000
            )));
        }
        let size = reader.output_buffer_size().ok_or_else(|| err("cannot read image: too large".into()))?;
        let mut buf = vec![0u8; size];
        let info = reader.next_frame(&mut buf).map_err(bad)?;
        for (y, row) in buf.chunks_exact(info.line_size).take(h as usize).enumerate() {
            for (x, px) in row.chunks_exact(channels).take(w as usize).enumerate() {
                shrink.add(x as u32, y as u32, luminance(px));
            }
        }
    } else {
        let mut y = 0;
        while let Some(row) = reader.next_row().map_err(bad)? {
            for (x, px) in row.data().chunks_exact(channels).take(w as usize).enumerate() {
                shrink.add(x as u32, y, luminance(px));
            }
            y += 1;
        }
    }
    Ok(shrink.finish())
}

fn read_jpeg(path: &Path, file: BufReader<std::fs::File>, w: u32, h: u32) -> Result<GrayImage> {
    let bad = |e: zune_jpeg::errors::DecodeErrors| Error::image(path, format!("cannot read image: {e}"));
    // Strict: a stream that ends before the last block (a cut file) is an error, not grey filler.
    let options = zune_core::options::DecoderOptions::default()
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::Luma)
        .set_strict_mode(true)
        .set_max_width(MAX_IMAGE_SIDE as usize)
        .set_max_height(MAX_IMAGE_SIDE as usize);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(file, options);
    decoder.decode_headers().map_err(bad)?;
    let (progressive, components) = decoder.info().map(|i| (i.sof.is_progressive(), i.components)).unwrap_or_default();
    if (progressive || components >= 4) && w as u64 * h as u64 > MAX_PROGRESSIVE_JPEG_PIXELS {
        return Err(Error::image(
            path,
            format!(
                "image is {w}×{h}, over the limit of {} megapixels for a {} JPEG",
                MAX_PROGRESSIVE_JPEG_PIXELS / 1_000_000,
                if progressive { "progressive" } else { "CMYK" }
            ),
        ));
    }
    let luma = decoder.decode().map_err(bad)?;
    if luma.len() != w as usize * h as usize {
        return Err(Error::image(
            path,
            format!("cannot read image: decoded {} pixels for a {w}×{h} image", luma.len()),
        ));
    }
    let mut shrink = Shrinker::new(w, h);
    for (y, row) in luma.chunks_exact(w as usize).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            shrink.add(x as u32, y as u32, v as f32 / 255.0);
        }
    }
    Ok(shrink.finish())
}
