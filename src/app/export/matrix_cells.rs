//! How a confusion-matrix cell looks — its colour, how strongly it is coloured, its text — shared by the
//! Evaluation tab and the matrix's export, so the picture on screen and the file agree.

/// Cell colours shared by the window and the export: the diagonal green, errors orange-red, by `t` in 0..1.
pub(crate) fn cell_rgb(diagonal: bool, t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let mix = |a: [f32; 3], b: [f32; 3]| [0, 1, 2].map(|i| (a[i] + (b[i] - a[i]) * t).round() as u8);
    if diagonal {
        mix([236.0, 246.0, 236.0], [30.0, 130.0, 60.0])
    } else {
        mix([250.0, 246.0, 240.0], [200.0, 40.0, 20.0])
    }
}

/// How strongly a cell is coloured: the diagonal by the class's accuracy, errors by their share of the row,
/// against the largest error share (so that even small mistakes stand out from paper).
pub(crate) fn cell_intensity(confusion: &[Vec<u32>], t: usize, p: usize) -> f32 {
    let share = |t: usize, p: usize| {
        let row: u32 = confusion[t].iter().sum();
        confusion[t][p] as f32 / row.max(1) as f32
    };
    if t == p {
        return share(t, p);
    }
    let max_err = (0..confusion.len())
        .flat_map(|a| (0..confusion.len()).filter(move |&b| b != a).map(move |b| (a, b)))
        .map(|(a, b)| share(a, b))
        .fold(0f32, f32::max);
    if max_err <= 0.0 {
        0.0
    } else {
        (share(t, p) / max_err).sqrt()
    }
}

/// The text of a cell: its count, or its share of the row in percent.
pub(crate) fn cell_text(confusion: &[Vec<u32>], t: usize, p: usize, normalised: bool) -> String {
    if !normalised {
        return confusion[t][p].to_string();
    }
    let row: u32 = confusion[t].iter().sum();
    let pct = 100.0 * confusion[t][p] as f64 / row.max(1) as f64;
    if pct == 0.0 {
        "0".into()
    } else if pct < 10.0 {
        format!("{pct:.1}")
    } else {
        format!("{pct:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_counts_or_row_shares_and_errors_stand_out() {
        let m = vec![vec![90, 10, 0], vec![0, 50, 0], vec![1, 0, 99]];
        assert_eq!(cell_text(&m, 0, 1, false), "10");
        assert_eq!(cell_text(&m, 0, 1, true), "10");
        assert_eq!(cell_text(&m, 2, 0, true), "1.0");
        assert_eq!(cell_intensity(&m, 0, 1), 1.0, "the largest error is fully coloured");
        assert!(cell_intensity(&m, 2, 0) > 0.3, "a small error is still visible");
        assert_eq!(cell_intensity(&m, 1, 0), 0.0);
        assert_ne!(cell_rgb(true, 1.0), cell_rgb(false, 1.0));
    }
}
